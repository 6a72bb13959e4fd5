//! Trigger status for the stream page: the `[[trigger]]`s that follow a table, where
//! they deliver, and the position each saved in the engine's store (its last
//! acknowledged record). Triggers exist only over the embedded engine.

use std::fmt::Write;

use daxlite_engine::Engine;

use super::page::esc;
use super::Console;
use crate::triggers::run::Cursor;

impl Console {
    /// Lets the stream page read the triggers' saved positions.
    pub fn with_engine(&self, engine: &Engine) {
        let _ = self.engine.set(engine.clone());
    }

    /// The triggers of `table` as an HTML section.
    pub fn trigger_status(&self, table: &str) -> String {
        let mine: Vec<_> = self.triggers.iter().filter(|t| t.table == table).collect();
        let mut out = String::from("<h2>Triggers</h2>");
        if mine.is_empty() {
            out.push_str("<p>No <code>[[trigger]]</code> follows this table.</p>");
            return out;
        }
        out.push_str(
            "<table class=\"grid\" id=\"triggers\"><thead><tr><th>Name</th><th>URL</th><th>Batch</th>\
<th>Shard</th><th>Last acknowledged sequence</th></tr></thead><tbody>",
        );
        for t in mine {
            let saved = self
                .engine
                .get()
                .and_then(|e| e.load_position(&t.name).ok().flatten())
                .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok());
            let (shard, seq) = match &saved {
                Some(c) => (
                    c.shard_id.clone(),
                    c.sequence_number
                        .clone()
                        .unwrap_or_else(|| "(none yet)".into()),
                ),
                None => ("-".into(), "nothing delivered yet".into()),
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name),
                esc(&t.url.to_string()),
                t.batch_size,
                esc(&shard),
                esc(&seq)
            );
        }
        out.push_str("</tbody></table>");
        out
    }
}
