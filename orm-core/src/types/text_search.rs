//! PostgreSQL full-text search values: `TSVECTOR` and `TSQUERY`.

use std::error::Error as StdError;
use std::fmt;

use bytes::{BufMut, BytesMut};
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{ArrayElement, ColumnType, SqlType};

type BoxError = Box<dyn StdError + Sync + Send>;

/// The largest lexeme position the server stores (larger ones are clamped to it).
pub const MAX_POSITION: u16 = 16_383;
/// The most positions the server keeps per lexeme.
const MAX_POSITIONS: usize = 256;
/// The longest lexeme, in bytes.
const MAX_LEXEME_BYTES: usize = 2_047;

/// The weight of a lexeme position: `A` ranks highest, `D` (the default) lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Weight {
    /// `D`, the default (printed without a letter).
    #[default]
    D,
    /// `C`
    C,
    /// `B`
    B,
    /// `A`
    A,
}

impl Weight {
    fn bits(self) -> u16 {
        match self {
            Weight::D => 0,
            Weight::C => 1,
            Weight::B => 2,
            Weight::A => 3,
        }
    }

    fn from_bits(bits: u16) -> Weight {
        match bits & 3 {
            3 => Weight::A,
            2 => Weight::B,
            1 => Weight::C,
            _ => Weight::D,
        }
    }
}

/// Where a lexeme occurs in the document: a position from 1 to [`MAX_POSITION`] and a weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pos: u16,
    weight: Weight,
}

impl Position {
    /// Position `pos` with `weight`; `pos` is clamped into `1..=16383` like the server does.
    pub fn new(pos: u16, weight: Weight) -> Position {
        Position {
            pos: pos.clamp(1, MAX_POSITION),
            weight,
        }
    }

    /// The position (1-based word number).
    pub fn pos(self) -> u16 {
        self.pos
    }

    /// The weight.
    pub fn weight(self) -> Weight {
        self.weight
    }

    fn to_wire(self) -> u16 {
        (self.weight.bits() << 14) | self.pos
    }

    fn from_wire(raw: u16) -> Position {
        Position {
            pos: raw & 0x3fff,
            weight: Weight::from_bits(raw >> 14),
        }
    }
}

impl From<u16> for Position {
    fn from(pos: u16) -> Position {
        Position::new(pos, Weight::D)
    }
}

/// A lexeme of a [`TsVector`] and its positions (sorted, unique; possibly none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lexeme {
    word: String,
    positions: Vec<Position>,
}

impl Lexeme {
    /// The normalized word.
    pub fn word(&self) -> &str {
        &self.word
    }

    /// Its positions, ascending.
    pub fn positions(&self) -> &[Position] {
        &self.positions
    }

    /// `word` at `positions`, in any order and possibly repeated.
    fn with_positions(word: String, positions: impl IntoIterator<Item = Position>) -> Lexeme {
        let mut l = Lexeme {
            word,
            positions: Vec::new(),
        };
        l.add_positions(positions);
        l
    }

    fn add_positions(&mut self, positions: impl IntoIterator<Item = Position>) {
        self.positions.extend(positions);
        self.normalize();
    }

    /// Sorts the positions, one entry per position, keeping the highest weight (as the server
    /// does).
    fn normalize(&mut self) {
        self.positions
            .sort_by_key(|p| (p.pos, std::cmp::Reverse(p.weight)));
        self.positions.dedup_by_key(|p| p.pos);
    }
}

/// A PostgreSQL `TSVECTOR`: a sorted set of lexemes, each with optional positions and weights.
///
/// Usually made by the server (`to_tsvector`, [`crate::expr::to_tsvector`]); decodes from and
/// encodes to the binary format, so a `TSVECTOR` column (Pagila's `film.fulltext`) maps to it.
///
/// ```
/// use orm_core::types::{TsVector, Weight, Position};
///
/// let mut v = TsVector::new();
/// v.insert("fat", [2, 4]);
/// v.insert("cat", [3]);
/// v.insert_weighted("rat", [Position::new(5, Weight::A)]);
/// assert_eq!(v.to_string(), "'cat':3 'fat':2,4 'rat':5A");
/// assert_eq!(v.lexemes()[1].word(), "fat");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TsVector {
    lexemes: Vec<Lexeme>,
}

impl TsVector {
    /// An empty vector.
    pub fn new() -> TsVector {
        TsVector::default()
    }

    /// The lexemes, sorted by their bytes (the server's order).
    pub fn lexemes(&self) -> &[Lexeme] {
        &self.lexemes
    }

    /// The vector of `lexemes` in any order, words given more than once merged: as inserting
    /// each in turn, but sorted once (inserting into the sorted list one by one moves the
    /// words after each, quadratic in the number of words), and each word's positions sorted
    /// once.
    fn from_unsorted(mut lexemes: Vec<Lexeme>) -> TsVector {
        lexemes.sort_by(|a, b| a.word.as_bytes().cmp(b.word.as_bytes()));
        let mut merged: Vec<Lexeme> = Vec::with_capacity(lexemes.len());
        for l in lexemes {
            match merged.last_mut() {
                Some(last) if last.word == l.word => last.positions.extend(l.positions),
                _ => merged.push(l),
            }
        }
        for l in &mut merged {
            l.normalize();
        }
        TsVector { lexemes: merged }
    }

    /// The number of lexemes.
    pub fn len(&self) -> usize {
        self.lexemes.len()
    }

    /// Whether there is no lexeme.
    pub fn is_empty(&self) -> bool {
        self.lexemes.is_empty()
    }

    /// The lexeme `word`, if present.
    pub fn get(&self, word: &str) -> Option<&Lexeme> {
        self.find(word).ok().and_then(|i| self.lexemes.get(i))
    }

    fn find(&self, word: &str) -> Result<usize, usize> {
        self.lexemes
            .binary_search_by(|l| l.word.as_bytes().cmp(word.as_bytes()))
    }

    /// Adds `word` at `positions` (weight `D`), merging with an existing entry.
    pub fn insert(&mut self, word: impl Into<String>, positions: impl IntoIterator<Item = u16>) {
        self.insert_weighted(word, positions.into_iter().map(Position::from));
    }

    /// Adds `word` at weighted `positions`, merging with an existing entry (a position given twice
    /// keeps the higher weight).
    pub fn insert_weighted(
        &mut self,
        word: impl Into<String>,
        positions: impl IntoIterator<Item = Position>,
    ) {
        let word = word.into();
        match self.find(&word) {
            Ok(i) => {
                if let Some(l) = self.lexemes.get_mut(i) {
                    l.add_positions(positions);
                }
            }
            Err(i) => self
                .lexemes
                .insert(i, Lexeme::with_positions(word, positions)),
        }
    }
}

/// Lexemes without positions.
impl<S: Into<String>> FromIterator<S> for TsVector {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> TsVector {
        TsVector::from_unsorted(
            iter.into_iter()
                .map(|w| Lexeme {
                    word: w.into(),
                    positions: Vec::new(),
                })
                .collect(),
        )
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, word: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in word.chars() {
        match c {
            '\'' => f.write_str("''")?,
            '\\' => f.write_str("\\\\")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

/// The server's text form: `'cat':3 'fat':2,4A`.
impl fmt::Display for TsVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.lexemes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write_quoted(f, &l.word)?;
            for (j, p) in l.positions.iter().enumerate() {
                f.write_str(if j == 0 { ":" } else { "," })?;
                write!(f, "{}", p.pos)?;
                match p.weight {
                    Weight::A => f.write_str("A")?,
                    Weight::B => f.write_str("B")?,
                    Weight::C => f.write_str("C")?,
                    Weight::D => {}
                }
            }
        }
        Ok(())
    }
}

/// A cursor over a binary value that never reads past its end.
struct Reader<'a> {
    raw: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BoxError> {
        if self.raw.len() < n {
            return Err(format!("invalid {}: truncated value", self.what).into());
        }
        let (head, tail) = self.raw.split_at(n);
        self.raw = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, BoxError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, BoxError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, BoxError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated UTF-8 string.
    fn cstr(&mut self) -> Result<String, BoxError> {
        let Some(end) = self.raw.iter().position(|&b| b == 0) else {
            return Err(format!("invalid {}: unterminated string", self.what).into());
        };
        let s = std::str::from_utf8(self.take(end)?)?.to_owned();
        self.take(1)?;
        Ok(s)
    }

    fn finish(&self) -> Result<(), BoxError> {
        if self.raw.is_empty() {
            Ok(())
        } else {
            Err(format!("invalid {}: {} trailing bytes", self.what, self.raw.len()).into())
        }
    }
}

fn put_cstr(out: &mut BytesMut, s: &str, what: &str) -> Result<(), BoxError> {
    if s.as_bytes().contains(&0) {
        return Err(format!("{what} contains a NUL character").into());
    }
    out.put_slice(s.as_bytes());
    out.put_u8(0);
    Ok(())
}

fn count(n: usize, what: &str) -> Result<i32, BoxError> {
    i32::try_from(n).map_err(|_| format!("too many {what}").into())
}

/// Binary format: `i32` lexeme count, then per lexeme its NUL-terminated text, a `u16` position
/// count and that many `u16` positions (weight in the top two bits).
impl ToSql for TsVector {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i32(count(self.lexemes.len(), "lexemes")?);
        for l in &self.lexemes {
            if l.word.len() > MAX_LEXEME_BYTES {
                return Err(format!(
                    "tsvector lexeme of {} bytes is longer than {MAX_LEXEME_BYTES}",
                    l.word.len()
                )
                .into());
            }
            put_cstr(out, &l.word, "tsvector lexeme")?;
            if l.positions.len() > MAX_POSITIONS {
                return Err(format!(
                    "tsvector lexeme with {} positions (at most {MAX_POSITIONS})",
                    l.positions.len()
                )
                .into());
            }
            // At most MAX_POSITIONS, checked above.
            out.put_u16(l.positions.len() as u16);
            for p in &l.positions {
                out.put_u16(p.to_wire());
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TS_VECTOR
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for TsVector {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let mut r = Reader {
            raw,
            what: "tsvector",
        };
        let n = r.i32()?;
        let n = usize::try_from(n).map_err(|_| "invalid tsvector: negative lexeme count")?;
        let mut lexemes = Vec::with_capacity(n.min(raw.len()));
        for _ in 0..n {
            let word = r.cstr()?;
            let npos = r.u16()?;
            let mut positions = Vec::with_capacity(usize::from(npos));
            for _ in 0..npos {
                positions.push(Position::from_wire(r.u16()?));
            }
            lexemes.push(Lexeme { word, positions });
        }
        r.finish()?;
        // The server sends lexemes sorted; keep the invariant whatever arrives.
        if !lexemes.is_sorted_by(|a, b| a.word.as_bytes() < b.word.as_bytes()) {
            return Ok(TsVector::from_unsorted(lexemes));
        }
        Ok(TsVector { lexemes })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TS_VECTOR
    }
}

impl SqlType for TsVector {
    type Base = TsVector;
    const COLUMN_TYPE: ColumnType = ColumnType::TsVector;
}

impl ArrayElement for TsVector {}

/// One item of a [`TsQuery`], in the server's prefix order (an operator, then its right operand,
/// then its left operand).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TsQueryItem {
    /// A lexeme to match.
    Operand {
        /// The lexeme.
        word: String,
        /// The weights it must have, as a bit set (`A` = 8, `B` = 4, `C` = 2, `D` = 1; 0 = any).
        weights: u8,
        /// Prefix match (`:*`).
        prefix: bool,
    },
    /// `!` (one operand).
    Not,
    /// `&`
    And,
    /// `|`
    Or,
    /// `<n>`: the right operand follows the left one at distance `n` (`<->` is 1).
    Phrase(u16),
}

/// A PostgreSQL `TSQUERY`, as the server's items. Built in SQL by [`to_tsquery`] and friends and
/// matched with [`Expression::matches`](crate::expr::Expression::matches); it decodes and encodes
/// (binary format) so a query can be selected, stored and sent back.
///
/// [`to_tsquery`]: crate::expr::to_tsquery
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TsQuery {
    items: Vec<TsQueryItem>,
}

impl TsQuery {
    /// A query from items in the server's prefix order (checked by the server when sent).
    pub fn from_items(items: Vec<TsQueryItem>) -> TsQuery {
        TsQuery { items }
    }

    /// The items, in the server's prefix order.
    pub fn items(&self) -> &[TsQueryItem] {
        &self.items
    }

    /// Whether the query is empty (matches nothing, e.g. made only of stop words).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

const QI_VAL: u8 = 1;
const QI_OPR: u8 = 2;
const OP_NOT: u8 = 1;
const OP_AND: u8 = 2;
const OP_OR: u8 = 3;
const OP_PHRASE: u8 = 4;

/// Binary format: `i32` item count, then per item a type byte; an operand has a weight byte, a
/// prefix byte and its NUL-terminated text; an operator has an operator byte (and a `u16`
/// distance for a phrase).
impl ToSql for TsQuery {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i32(count(self.items.len(), "tsquery items")?);
        for item in &self.items {
            match item {
                TsQueryItem::Operand {
                    word,
                    weights,
                    prefix,
                } => {
                    out.put_u8(QI_VAL);
                    out.put_u8(*weights);
                    out.put_u8(u8::from(*prefix));
                    put_cstr(out, word, "tsquery operand")?;
                }
                TsQueryItem::Not => {
                    out.put_u8(QI_OPR);
                    out.put_u8(OP_NOT);
                }
                TsQueryItem::And => {
                    out.put_u8(QI_OPR);
                    out.put_u8(OP_AND);
                }
                TsQueryItem::Or => {
                    out.put_u8(QI_OPR);
                    out.put_u8(OP_OR);
                }
                TsQueryItem::Phrase(distance) => {
                    out.put_u8(QI_OPR);
                    out.put_u8(OP_PHRASE);
                    out.put_u16(*distance);
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TSQUERY
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for TsQuery {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let mut r = Reader {
            raw,
            what: "tsquery",
        };
        let n = r.i32()?;
        let n = usize::try_from(n).map_err(|_| "invalid tsquery: negative item count")?;
        let mut items = Vec::with_capacity(n.min(raw.len()));
        for _ in 0..n {
            let item = match r.u8()? {
                QI_VAL => {
                    let weights = r.u8()?;
                    let prefix = r.u8()? != 0;
                    let word = r.cstr()?;
                    TsQueryItem::Operand {
                        word,
                        weights,
                        prefix,
                    }
                }
                QI_OPR => match r.u8()? {
                    OP_NOT => TsQueryItem::Not,
                    OP_AND => TsQueryItem::And,
                    OP_OR => TsQueryItem::Or,
                    OP_PHRASE => TsQueryItem::Phrase(r.u16()?),
                    other => return Err(format!("invalid tsquery: operator {other}").into()),
                },
                other => return Err(format!("invalid tsquery: item type {other}").into()),
            };
            items.push(item);
        }
        r.finish()?;
        Ok(TsQuery { items })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TSQUERY
    }
}

impl SqlType for TsQuery {
    type Base = TsQuery;
    const COLUMN_TYPE: ColumnType = ColumnType::TsQuery;
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Building a vector from lexemes in any order (`collect`, or a wire value not
        /// sorted) gives what inserting them one by one gives.
        #[test]
        fn unsorted_lexemes_make_the_vector_their_inserts_make(
            words in proptest::collection::vec(
                ("[a-d]{1,2}", proptest::collection::vec((1u16..6, 0u8..4), 0..4)),
                0..40,
            )
        ) {
            let weight = |w: u8| [Weight::D, Weight::C, Weight::B, Weight::A][usize::from(w)];
            let mut inserted = TsVector::new();
            let mut lexemes = Vec::new();
            for (word, positions) in &words {
                let positions: Vec<Position> =
                    positions.iter().map(|&(p, w)| Position::new(p, weight(w))).collect();
                inserted.insert_weighted(word.clone(), positions.clone());
                lexemes.push(Lexeme { word: word.clone(), positions });
            }
            proptest::prop_assert_eq!(&TsVector::from_unsorted(lexemes), &inserted);
            let bare: TsVector = words.iter().map(|(w, _)| w.clone()).collect();
            let mut one_by_one = TsVector::new();
            for (w, _) in &words {
                one_by_one.insert(w.clone(), []);
            }
            proptest::prop_assert_eq!(bare, one_by_one);
        }
    }

    #[test]
    fn tsvector_wire_round_trip() {
        let mut v = TsVector::new();
        v.insert("b", [3, 1, 3]);
        v.insert_weighted(
            "a",
            [Position::new(2, Weight::A), Position::new(2, Weight::C)],
        );
        v.insert("c", []);
        assert_eq!(v.to_string(), "'a':2A 'b':1,3 'c'");
        let mut buf = BytesMut::new();
        v.to_sql(&Type::TS_VECTOR, &mut buf).expect("encode");
        assert_eq!(&buf[..4], &3_i32.to_be_bytes());
        assert_eq!(&buf[4..6], b"a\0");
        assert_eq!(&buf[6..8], &1_u16.to_be_bytes());
        assert_eq!(&buf[8..10], &(0xc002_u16).to_be_bytes());
        assert_eq!(
            TsVector::from_sql(&Type::TS_VECTOR, &buf).expect("decode"),
            v
        );
        for cut in 0..buf.len() {
            assert!(TsVector::from_sql(&Type::TS_VECTOR, &buf[..cut]).is_err());
        }
    }

    #[test]
    fn tsvector_rejects_what_the_server_would() {
        let mut buf = BytesMut::new();
        let v: TsVector = ["a\0b"].into_iter().collect();
        assert!(v.to_sql(&Type::TS_VECTOR, &mut buf).is_err());
        let mut v = TsVector::new();
        v.insert("many", 1..=300);
        assert!(v.to_sql(&Type::TS_VECTOR, &mut buf).is_err());
        assert_eq!(Position::new(0, Weight::D).pos(), 1);
        assert_eq!(Position::new(20_000, Weight::D).pos(), MAX_POSITION);
        let quoted: TsVector = ["it's", r"a\b"].into_iter().collect();
        assert_eq!(quoted.to_string(), r"'a\\b' 'it''s'");
    }

    #[test]
    fn tsquery_wire_round_trip() {
        let q = TsQuery::from_items(vec![
            TsQueryItem::And,
            TsQueryItem::Operand {
                word: "dog".into(),
                weights: 0,
                prefix: true,
            },
            TsQueryItem::Phrase(2),
            TsQueryItem::Operand {
                word: "b".into(),
                weights: 8,
                prefix: false,
            },
            TsQueryItem::Not,
            TsQueryItem::Or,
        ]);
        let mut buf = BytesMut::new();
        q.to_sql(&Type::TSQUERY, &mut buf).expect("encode");
        assert_eq!(TsQuery::from_sql(&Type::TSQUERY, &buf).expect("decode"), q);
        for cut in 0..buf.len() {
            assert!(TsQuery::from_sql(&Type::TSQUERY, &buf[..cut]).is_err());
        }
    }
}
