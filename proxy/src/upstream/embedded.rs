//! The embedded upstream: the engine in this process — no socket, no HTTP encoding.

use daxlite_engine::wire::Operation;
use daxlite_engine::Engine;

use super::{Reply, Request, Upstream};
use crate::admin::Administer;

#[derive(Clone)]
pub struct Embedded {
    engine: Engine,
}

impl Embedded {
    pub fn new(engine: Engine) -> Self {
        Embedded { engine }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Nothing to administer without a cache in front.
impl Administer for Embedded {}

impl Upstream for Embedded {
    async fn call(&self, req: Request) -> Reply {
        match self.engine.call(req.op, &req.body).await {
            Ok(body) => Reply::ok(body),
            Err(err) => Reply::error(&err),
        }
    }

    fn supports(&self, op: Operation) -> bool {
        self.engine.supports(op)
    }

    fn capacity_series(&self) -> Option<serde_json::Value> {
        Some(self.engine.capacity_series())
    }

    fn close(&self) {
        self.engine.close();
    }
}
