//! Tar archives (POSIX, GNU, PAX and V7), read as a stream.

use std::io::{self, Read};
use std::sync::Arc;

use super::{Ctx, Error, Level};
use crate::Origin;
use crate::blob::display_member_name;

/// The member name as stored (long names from PAX and GNU headers included), lossy UTF-8.
pub(crate) fn entry_name<R: Read>(entry: &::tar::Entry<'_, R>) -> String {
    String::from_utf8_lossy(&entry.path_bytes()).into_owned()
}

/// True for entries with content: regular files (links, directories and devices have none).
pub(crate) fn has_content(kind: ::tar::EntryType) -> bool {
    matches!(
        kind,
        ::tar::EntryType::Regular | ::tar::EntryType::Continuous | ::tar::EntryType::GNUSparse
    )
}

/// Scans every regular file in a tar stream. Returns when the archive ends, breaks or a
/// budget runs out.
pub(super) fn scan(ctx: &mut Ctx<'_>, input: &mut dyn Read, origin: &Origin, level: Level) {
    let parent = Arc::new(origin.clone());
    let mut archive = ::tar::Archive::new(input);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return ctx.report(origin, &Error::Tar(e).into_io()),
    };
    for entry in entries {
        if ctx.halted {
            return;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => return ctx.report(origin, &tar_error(e)),
        };
        if !has_content(entry.header().entry_type()) {
            continue;
        }
        if !ctx.enter_member(origin) {
            return;
        }
        let member = Origin::Member {
            parent: parent.clone(),
            path: display_member_name(&entry_name(&entry)),
        };
        let size = entry.size();
        if !super::scan(ctx, &mut entry, &member, level.member(), Some(size)) {
            // A member's own stream may break without breaking the tar around it; the next
            // header tells.
            continue;
        }
    }
}

/// A tar error, unless it carries one of ours (a limit or a broken decoder underneath).
pub(crate) fn tar_error(e: io::Error) -> io::Error {
    if super::find_error(&e).is_some() {
        e
    } else {
        Error::Tar(e).into_io()
    }
}
