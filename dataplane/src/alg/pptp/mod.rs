pub mod msg;
pub mod stream;
