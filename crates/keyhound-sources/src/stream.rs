//! Streams (stdin, pipes): `jenkins-cli console JOB | keyhound scan -`.
//!
//! A stream is read once, in bounded chunks. Compressed streams and archives are recognised
//! by their first bytes and opened like files (`docker save IMAGE | keyhound scan -`); a zip
//! on a stream is read into memory up to [`Limits::max_in_memory_archive`] to reach its
//! central directory.

use std::io::Read;

use crate::archive::{self, Ctx, Level};
use crate::reader::Reader;
use crate::{Limits, Origin, Worker};

/// Reads `input` to its end as one input named `name`. A read error is reported as a skip;
/// what was read before it has been scanned.
pub fn read(input: &mut dyn Read, name: &str, limits: &Limits, worker: &mut dyn Worker) {
    let origin = Origin::Stream(name.to_owned());
    let mut reader = Reader::default();
    let mut ctx = Ctx::new(limits, &mut reader, worker);
    archive::scan(&mut ctx, input, &origin, Level::default(), None);
}
