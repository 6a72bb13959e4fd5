//! The data model: attribute values exactly as DynamoDB's JSON spells them, the exact
//! decimal `Number`, item size as DynamoDB counts it, and the order-preserving key encoding.

pub mod keycodec;
pub mod number;
pub mod size;
pub mod value;

pub use number::{Number, NumberError};
pub use value::{AttributeValue, Item};
