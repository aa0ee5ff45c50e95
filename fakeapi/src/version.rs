//! resourceVersions as the fake shows them: opaque strings.
//!
//! The API conventions say clients "must treat these values as opaque and may not assume the
//! value is numeric or that it can be compared for ordering" (api-conventions.md, "Concurrency
//! Control and Consistency"); etcd-backed servers happen to hand out increasing decimal numbers,
//! which tempts clients into parsing them. The fake counts writes internally but shows each
//! count scrambled (a bijection of the 64-bit count, printed as letters-and-hex), so a client
//! that parses or orders resourceVersions fails against it. Only the fake decodes them, to
//! resume watches; `0` keeps its documented meaning ("any version").

/// An odd multiplier, so multiplying by it is a bijection of the 64-bit integers.
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
/// The multiplier's inverse modulo 2^64 (Newton's iteration doubles the correct bits each step).
const INVERSE: u64 = {
    let mut inv = MULTIPLIER;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(MULTIPLIER.wrapping_mul(inv)));
        i += 1;
    }
    inv
};
const SALT: u64 = 0x5EED_F00D_CAFE_D00D;
/// Every resourceVersion starts with this, so none parses as a number.
const PREFIX: &str = "rv";

/// The resourceVersion clients see for the store's `count`-th write.
pub(crate) fn encode(count: u64) -> String {
    format!("{PREFIX}{:016x}", (count ^ SALT).wrapping_mul(MULTIPLIER))
}

/// The write count a resourceVersion stands for; `None` for a string the fake never gave out.
pub(crate) fn decode(text: &str) -> Option<u64> {
    let hex = text.strip_prefix(PREFIX)?;
    if hex.len() != 16 {
        return None;
    }
    let scrambled = u64::from_str_radix(hex, 16).ok()?;
    Some(scrambled.wrapping_mul(INVERSE) ^ SALT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_do_not_look_like_numbers_or_sort_by_age() {
        for n in [0, 1, 2, 41, 1_000_000, u64::MAX] {
            assert_eq!(decode(&encode(n)), Some(n));
            assert!(encode(n).parse::<u64>().is_err());
        }
        let in_order: Vec<String> = (1..20).map(encode).collect();
        let mut sorted = in_order.clone();
        sorted.sort();
        assert_ne!(in_order, sorted, "string order must not follow write order");
        assert_eq!(decode("12"), None);
        assert_eq!(decode("rvzz"), None);
    }
}
