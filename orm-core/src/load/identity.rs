//! What identifies a part of a joined row (a parent, or one joined child): the raw bytes of its
//! key columns, compared without decoding them.

use super::RowAccess;
use crate::error::{Error, Result};

/// Bytes held inline: any key of one or two integer columns, or one uuid.
const INLINE: usize = 30;

/// The raw key columns of a row's part, each written as a `NULL` flag, then (when not `NULL`) a
/// 4-byte length and the bytes. A short one is held inline, so identifying a row allocates
/// nothing in the common case; two identities are equal exactly when their columns' bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Identity {
    /// Up to [`INLINE`] bytes; the rest are zero.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// Longer ones.
    Heap(Box<[u8]>),
}

impl Identity {
    /// The identity of columns `offset + i`, `i` in `columns`, of `row`.
    pub(super) fn of(
        row: &dyn RowAccess,
        offset: usize,
        columns: impl Iterator<Item = usize>,
    ) -> Result<Identity> {
        let mut w = Writer {
            len: 0,
            bytes: [0; INLINE],
            heap: None,
        };
        for i in columns.map(|i| offset + i) {
            let (_, raw) = row
                .raw(i)
                .map_err(|e| Error::decode("row", format!("#{i}"), e))?;
            match raw {
                None => w.put(&[0]),
                Some(bytes) => {
                    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                    w.put(&[1]);
                    w.put(&len.to_be_bytes());
                    w.put(bytes);
                }
            }
        }
        Ok(match w.heap {
            Some(heap) => Identity::Heap(heap.into_boxed_slice()),
            // `len` never passes INLINE (30) on this branch.
            None => Identity::Inline {
                len: w.len as u8,
                bytes: w.bytes,
            },
        })
    }
}

/// Writes an identity inline until it no longer fits, then on the heap.
struct Writer {
    len: usize,
    bytes: [u8; INLINE],
    heap: Option<Vec<u8>>,
}

impl Writer {
    #[inline]
    fn put(&mut self, piece: &[u8]) {
        if let Some(heap) = &mut self.heap {
            heap.extend_from_slice(piece);
        } else if let Some(slot) = self.bytes.get_mut(self.len..self.len + piece.len()) {
            slot.copy_from_slice(piece);
            self.len += piece.len();
        } else {
            let mut heap = Vec::with_capacity(self.len + piece.len() + INLINE);
            heap.extend_from_slice(&self.bytes[..self.len]);
            heap.extend_from_slice(piece);
            self.heap = Some(heap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BoxError;
    use postgres_types::Type;

    struct Values(Vec<Option<Vec<u8>>>);

    impl RowAccess for Values {
        fn raw(&self, idx: usize) -> std::result::Result<(&Type, Option<&[u8]>), BoxError> {
            let v = self.0.get(idx).ok_or("out of range")?;
            Ok((&Type::BYTEA, v.as_deref()))
        }
        fn len(&self) -> usize {
            self.0.len()
        }
    }

    fn id(values: &[Option<&[u8]>]) -> Identity {
        let row = Values(values.iter().map(|v| v.map(<[u8]>::to_vec)).collect());
        Identity::of(&row, 0, 0..values.len()).expect("in range")
    }

    #[test]
    fn identities_are_equal_exactly_when_the_bytes_are() {
        let long = [7u8; 40];
        assert!(matches!(
            id(&[Some(&[1, 2, 3, 4])]),
            Identity::Inline { len: 9, .. }
        ));
        assert!(matches!(id(&[Some(&long)]), Identity::Heap(_)));
        // 13 + 13 bytes inline; a third column spills onto the heap.
        let eight = [9u8; 8];
        assert!(matches!(
            id(&[Some(&eight), Some(&eight)]),
            Identity::Inline { len: 26, .. }
        ));
        let three = id(&[Some(&eight), Some(&eight), Some(&[1])]);
        assert!(matches!(&three, Identity::Heap(b) if b.len() == 32));
        assert_eq!(three, id(&[Some(&eight), Some(&eight), Some(&[1])]));
        assert_ne!(three, id(&[Some(&eight), Some(&eight), Some(&[2])]));
        assert_eq!(id(&[Some(&long)]), id(&[Some(&long)]));
        assert_ne!(id(&[Some(&long)]), id(&[Some(&long[1..])]));
        // NULL, an empty value and a zero byte all differ; column boundaries count.
        assert_ne!(id(&[None]), id(&[Some(&[])]));
        assert_ne!(id(&[Some(&[])]), id(&[Some(&[0])]));
        assert_ne!(
            id(&[Some(&[1]), Some(&[2, 3])]),
            id(&[Some(&[1, 2]), Some(&[3])])
        );
        assert!(Identity::of(&Values(vec![]), 0, 0..1).is_err());
    }
}
