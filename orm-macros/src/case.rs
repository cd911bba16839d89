//! Default SQL names: `OrderItem` -> `order_item`, `HTTPRequest` -> `http_request`.

/// The snake_case form of a Rust type or variant name. A word starts at an uppercase letter that
/// follows a lowercase letter or a digit, and at the last uppercase letter of an acronym that is
/// followed by a lowercase one (`HTTPRequest` -> `http` + `request`). Underscores are kept.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary =
                prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower);
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("OrderItem"), "order_item");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("UserV2"), "user_v2");
        assert_eq!(snake_case("Base64Encoder"), "base64_encoder");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Mixed_Case"), "mixed_case");
        assert_eq!(snake_case("A"), "a");
        assert_eq!(snake_case("VeryHappy"), "very_happy");
        assert_eq!(snake_case("ID"), "id");
    }
}
