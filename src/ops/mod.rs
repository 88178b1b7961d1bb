//! The operator's kit: a consistent backup of a live SQLite database, `keydesk doctor`'s
//! checks of a configuration against the world, and the retention that keeps personal data
//! no longer than it is needed. The command line only prints what these return.

pub mod backup;
pub mod doctor;
pub mod retention;
