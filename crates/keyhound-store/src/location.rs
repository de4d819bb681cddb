//! Database locations: parsing `--db` / `KEYHOUND_DB`, and showing them without passwords.

use std::path::PathBuf;

use crate::{DbLocation, Error};

/// `sslmode` values that need TLS, which this version does not speak.
const TLS_MODES: [&str; 3] = ["require", "verify-ca", "verify-full"];

pub(crate) fn parse(spec: &str) -> Result<DbLocation, Error> {
    let lower = spec.get(..13).unwrap_or(spec).to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let location = DbLocation::Postgres(spec.to_owned());
        check_postgres(spec)?;
        return Ok(location);
    }
    let path = spec
        .strip_prefix("sqlite://")
        .or_else(|| spec.strip_prefix("sqlite:"))
        .unwrap_or(spec);
    if path.is_empty() {
        return Err(Error::BadLocation {
            location: spec.to_owned(),
            reason: "it names no file".into(),
        });
    }
    Ok(DbLocation::Sqlite(PathBuf::from(path)))
}

/// Refuses what this version cannot honour: TLS.
pub(crate) fn check_postgres(url: &str) -> Result<(), Error> {
    for (key, value) in query_pairs(url) {
        if key.eq_ignore_ascii_case("sslmode") && TLS_MODES.contains(&value.as_str()) {
            return Err(Error::BadLocation {
                location: redact_url(url),
                reason: format!(
                    "sslmode={value} asks for TLS, which keyhound does not support yet; use a \
                     local socket, an SSH tunnel, or sslmode=disable on a trusted network"
                ),
            });
        }
    }
    Ok(())
}

fn query_pairs(url: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k.to_owned(), v.to_ascii_lowercase())
    })
}

/// The URL with the password (in the user info, or a `password=` parameter) replaced by
/// `****`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:****@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=****"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

pub(crate) fn redacted(location: &DbLocation) -> String {
    match location {
        DbLocation::Sqlite(path) => path.display().to_string(),
        DbLocation::Postgres(url) => redact_url(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_choose_the_backend() {
        assert_eq!(
            parse("postgres://u@h/db").unwrap(),
            DbLocation::Postgres("postgres://u@h/db".into())
        );
        assert!(matches!(
            parse("PostgreSQL://h/db").unwrap(),
            DbLocation::Postgres(_)
        ));
        assert_eq!(
            parse("sqlite:///tmp/a.db").unwrap(),
            DbLocation::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            parse("sqlite:rel.db").unwrap(),
            DbLocation::Sqlite("rel.db".into())
        );
        assert_eq!(
            parse("/var/x.db").unwrap(),
            DbLocation::Sqlite("/var/x.db".into())
        );
        assert!(matches!(parse(""), Err(Error::BadLocation { .. })));
        assert!(matches!(parse("sqlite:"), Err(Error::BadLocation { .. })));
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://kh:s3cr%40t@db.example:5432/kh?sslmode=disable"),
            "postgres://kh:****@db.example:5432/kh?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://db/kh?user=kh&password=hunter2"),
            "postgres://db/kh?user=kh&password=****"
        );
        assert_eq!(redact_url("postgres://kh@db/kh"), "postgres://kh@db/kh");
        // An @ inside the password: the host is after the last one.
        assert_eq!(
            redact_url("postgres://kh:a@b@db/kh"),
            "postgres://kh:****@db/kh"
        );
    }

    #[test]
    fn tls_is_refused_not_downgraded() {
        for mode in ["require", "verify-ca", "VERIFY-FULL"] {
            let err = parse(&format!("postgres://kh:pw@db/kh?sslmode={mode}")).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("TLS"), "{msg}");
            assert!(!msg.contains("pw@"), "{msg}");
        }
        parse("postgres://db/kh?sslmode=disable").unwrap();
        parse("postgres://db/kh?sslmode=prefer").unwrap();
    }
}
