//! What a query costs on Athena: $5 per TB scanned, each query billed for at least 10 MB, bytes
//! rounded up to the next megabyte (aws.amazon.com/athena/pricing). Goes to the request ledger
//! beside Cost Explorer's $0.01 per request.

use costwatch_core::Money;
use rust_decimal::Decimal;

const MB: u64 = 1_000_000;
const MINIMUM_BYTES: u64 = 10 * MB;

/// The bytes Athena bills for a query that scanned `scanned` bytes.
pub fn billed_bytes(scanned: u64) -> u64 {
    scanned.div_ceil(MB).saturating_mul(MB).max(MINIMUM_BYTES)
}

/// The dollars Athena bills for a query that scanned `scanned` bytes.
pub fn athena_dollars(scanned: u64) -> Money {
    billed_dollars(billed_bytes(scanned))
}

/// The dollars for `billed` bytes, each query's minimum and rounding already applied (a sum of
/// [`billed_bytes`]): $5 per 10^12 bytes.
pub fn billed_dollars(billed: u64) -> Money {
    Decimal::from(billed) * Decimal::new(5, 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn minimum_and_rounding_follow_athena_pricing() {
        assert_eq!(billed_bytes(0), 10_000_000);
        assert_eq!(billed_bytes(9_999_999), 10_000_000);
        assert_eq!(billed_bytes(10_000_001), 11_000_000);
        assert_eq!(athena_dollars(0), dec!(0.00005));
        assert_eq!(athena_dollars(1_000_000_000_000), dec!(5));
        assert_eq!(athena_dollars(2_500_000_000), dec!(0.0125));
        assert_eq!(billed_dollars(3_000_000_000 + 10_000_000), dec!(0.01505));
    }
}
