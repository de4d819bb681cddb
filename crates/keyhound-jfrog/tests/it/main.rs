//! The JFrog client against the emulator, in process: the endpoints keyhound relies on
//! behave as the JFrog REST API documents them.

mod emulator;
