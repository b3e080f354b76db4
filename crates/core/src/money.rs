//! Money is a decimal until it enters a model; then it becomes f64 through [`to_f64`].

pub use rust_decimal::Decimal as Money;
use rust_decimal::prelude::ToPrimitive;

/// Lossy conversion for statistics; money itself is never stored as f64.
pub fn to_f64(m: Money) -> f64 {
    m.to_f64().unwrap_or(0.0)
}

/// Back from a model to money, rounded to cents (4 dp would suggest precision models do not have).
pub fn from_f64(v: f64) -> Money {
    Money::from_f64_retain(v).unwrap_or_default().round_dp(2)
}

/// `12.5` → `"12.50"`, `1234567.891` → `"1,234,567.89"`: how people read dollar amounts.
pub fn format_amount(m: Money) -> String {
    let rounded = m.round_dp(2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.2}", rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}{grouped}.{frac}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn formats_with_grouping_and_cents() {
        assert_eq!(format_amount(dec!(1234567.891)), "1,234,567.89");
        assert_eq!(format_amount(dec!(12.5)), "12.50");
        assert_eq!(format_amount(dec!(-999.999)), "-1,000.00");
        assert_eq!(format_amount(dec!(0)), "0.00");
    }

    #[test]
    fn f64_round_trip_keeps_cents() {
        assert_eq!(from_f64(to_f64(dec!(1043.27))), dec!(1043.27));
    }
}
