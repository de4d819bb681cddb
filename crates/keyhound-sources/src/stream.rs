//! Streams (stdin, pipes): `jenkins-cli console JOB | keyhound scan -`.

use std::io::Read;

use crate::reader::Reader;
use crate::{Limits, Origin, SkipReason, Skipped, Worker};

/// Reads `input` to its end as one input named `name`, in bounded chunks. A read error is
/// reported as a skip; what was read before it has been scanned.
pub fn read(input: &mut dyn Read, name: &str, limits: &Limits, worker: &mut dyn Worker) {
    let origin = Origin::Stream(name.to_owned());
    match Reader::default().read(input, None, &origin, limits, worker) {
        Ok(bytes) => worker.input_done(&origin, bytes),
        Err(e) => worker.skipped(Skipped {
            origin,
            reason: SkipReason::Unreadable,
            detail: e.to_string(),
        }),
    }
}
