//! Recognises archives and compressed streams by their magic bytes.

/// A compressed-stream format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`.gz`, `.tgz`), possibly several members back to back.
    Gzip,
    /// bzip2 (`.bz2`).
    Bzip2,
    /// xz (`.xz`).
    Xz,
    /// Zstandard (`.zst`), possibly several frames.
    Zstd,
}

impl Compression {
    /// The format's name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// What an input is, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else: scanned as bytes.
    Plain,
    /// A compressed stream.
    Compressed(Compression),
    /// A zip archive (jar, war, ear, aar, whl, nupkg, apk...).
    Zip,
    /// A tar archive (POSIX, GNU or old V7).
    Tar,
}

impl Kind {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Plain => "file",
            Kind::Compressed(c) => c.name(),
            Kind::Zip => "zip archive",
            Kind::Tar => "tar archive",
        }
    }
}

/// Recognises the format from the first bytes of an input (up to 512; a tar header needs
/// all of them).
pub fn detect(head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        return Kind::Compressed(Compression::Gzip);
    }
    if head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        return Kind::Compressed(Compression::Xz);
    }
    if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        return Kind::Compressed(Compression::Zstd);
    }
    // "BZh", a block size digit, then a block header or the end-of-stream marker.
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
    {
        return Kind::Compressed(Compression::Bzip2);
    }
    // A local file header, or the end record of an empty archive. (A zip with a prefix, such
    // as a self-extracting or "fully executable" jar, starts with its prefix instead; it is
    // scanned as bytes, which covers its stored members.)
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if is_tar_header(head) {
        return Kind::Tar;
    }
    Kind::Plain
}

/// A tar header: `ustar` magic, or (old V7 tars) a valid header checksum.
fn is_tar_header(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    let block = &head[..512];
    let Some(stored) = parse_octal(&block[148..156]) else {
        return false;
    };
    // The checksum is the sum of the header's bytes with the checksum field as spaces.
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    let ustar = &block[257..262] == b"ustar";
    // An all-zero block sums to 256 and is no header; a name is required.
    sum == stored && block[0] != 0 && (ustar || sum > 256)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let s = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| (b'0'..=b'7').contains(&b));
    let mut n: u64 = 0;
    let mut any = false;
    for b in s {
        n = n.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(
            detect(&[0x1f, 0x8b, 8, 0, 0]),
            Kind::Compressed(Compression::Gzip)
        );
        assert_eq!(detect(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(
            detect(b"BZh91AY&SY...."),
            Kind::Compressed(Compression::Bzip2)
        );
        assert_eq!(detect(b"BZh9 not a bzip2"), Kind::Plain);
        assert_eq!(detect(b"PK is a common start of text"), Kind::Plain);
        assert_eq!(detect(b""), Kind::Plain);
        assert_eq!(detect(&[0u8; 512]), Kind::Plain);
    }

    #[test]
    fn tar_headers_by_checksum() {
        let mut h = [0u8; 512];
        h[..5].copy_from_slice(b"a.txt");
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(b"00000000005\0");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(detect(&h), Kind::Tar, "V7 header without magic");
        h[0] = b'b';
        assert_eq!(detect(&h), Kind::Plain, "checksum no longer matches");
    }
}
