//! What the server accepts as a channel name and a payload, checked before anything is sent,
//! and the `LISTEN`/`UNLISTEN` text of a set of channels (names quoted, never spliced).

use std::collections::BTreeSet;

use orm_core::compile::{SqlWriter, check_identifier};

use crate::{ErrorKind, Result};

/// The longest `NOTIFY` payload PostgreSQL accepts, in bytes: payloads must be shorter than
/// 8000 bytes (`NOTIFY_PAYLOAD_MAX_LENGTH` of a server built with the default 8 kB pages).
pub const MAX_PAYLOAD_BYTES: usize = 7999;

/// A channel name is an identifier: not empty, at most 63 bytes (the server would truncate a
/// longer name, and `pg_notify` refuses one), no NUL byte. Any other character is fine: names
/// are always quoted, so `"Orders"` and `orders` are two channels.
pub(super) fn check_channel(name: &str) -> Result<()> {
    check_identifier(name)
}

/// A payload the server takes: shorter than 8000 bytes, without NUL characters (text cannot
/// hold them).
pub(super) fn check_payload(payload: &str) -> Result<()> {
    let len = payload.len();
    let reason = if len > MAX_PAYLOAD_BYTES {
        "PostgreSQL takes payloads shorter than 8000 bytes; send a key and keep the data in a table"
    } else if payload.contains('\0') {
        "a payload cannot contain a NUL character"
    } else {
        return Ok(());
    };
    Err(ErrorKind::InvalidPayload { len, reason }.into())
}

/// The statements that take a connection listening to `now` to listening to `wanted`:
/// `LISTEN "a"; UNLISTEN "b"` (empty when nothing changes).
pub(super) fn sync_sql(wanted: &BTreeSet<String>, now: &BTreeSet<String>) -> Result<String> {
    let mut w = SqlWriter::new();
    for (verb, name) in wanted
        .difference(now)
        .map(|c| ("LISTEN ", c))
        .chain(now.difference(wanted).map(|c| ("UNLISTEN ", c)))
    {
        w.push(verb);
        w.push_ident(name);
        w.push("; ");
    }
    Ok(w.finish()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_are_quoted_and_the_sets_compared() {
        let sql = sync_sql(&set(&["a", "My \"Chan\""]), &set(&["a", "old"])).expect("sql");
        assert_eq!(sql, r#"LISTEN "My ""Chan"""; UNLISTEN "old"; "#);
        assert_eq!(sync_sql(&set(&["a"]), &set(&["a"])).expect("sql"), "");
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", "x\0y"] {
            assert!(check_channel(bad).is_err(), "{bad:?}");
        }
        assert!(check_channel(&"c".repeat(63)).is_ok());
        assert!(check_channel(&"c".repeat(64)).is_err());
        assert!(sync_sql(&set(&[""]), &set(&[])).is_err());
    }

    #[test]
    fn payloads_are_checked_in_bytes() {
        assert!(check_payload("").is_ok());
        assert!(check_payload(&"x".repeat(MAX_PAYLOAD_BYTES)).is_ok());
        let e = check_payload(&"x".repeat(MAX_PAYLOAD_BYTES + 1)).expect_err("too long");
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidPayload { len: 8000, .. }
        ));
        // 2000 four-byte characters: 8000 bytes.
        assert!(check_payload(&"😀".repeat(2000)).is_err());
        assert!(check_payload("a\0b").is_err());
    }
}
