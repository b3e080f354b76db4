//! Money is a decimal until it enters a model; then it becomes f64 through [`to_f64`]. People
//! read it through [`display`], the one formatter of every message, report and title.

pub use rust_decimal::Decimal as Money;
use rust_decimal::RoundingStrategy;
use rust_decimal::prelude::ToPrimitive;

/// Lossy conversion for statistics; money itself is never stored as f64.
pub fn to_f64(m: Money) -> f64 {
    m.to_f64().unwrap_or(0.0)
}

/// The largest magnitude a cost line or a budget may have: $10^15, a thousand times a year of
/// the largest AWS bill. Readers and config checks refuse anything larger, so every sum and
/// ratio downstream stays far inside `Decimal`'s ±7.9 × 10^28 and cannot overflow (10^13 lines
/// at the bound still fit) — an overflow would be a panic, and a panic loses the batch.
pub fn max_amount() -> Money {
    Money::from(1_000_000_000_000_000_i64)
}

/// `amount` if within ±[`max_amount`], else why not (the reader adds where).
pub fn within_bounds(amount: Money) -> Result<Money, String> {
    if amount.abs() <= max_amount() {
        Ok(amount)
    } else {
        Err(format!(
            "amount {amount} is beyond ±10^15, the most costwatch accepts for one line or budget"
        ))
    }
}

/// Back from a model to money, rounded to cents (4 dp would suggest precision models do not have).
pub fn from_f64(v: f64) -> Money {
    Money::from_f64_retain(v).unwrap_or_default().round_dp(2)
}

/// ISO 4217 code, the symbol English readers know it by (CLDR's `en` symbol; `None` where that
/// is the code itself) and its minor units. AWS bills in the first rows; the others are the
/// currencies whose minor units are not 2, so that none of them is shown with invented cents.
const CURRENCIES: &[(&str, Option<&str>, u32)] = &[
    ("USD", Some("$"), 2),
    ("EUR", Some("€"), 2),
    ("GBP", Some("£"), 2),
    ("JPY", Some("¥"), 0),
    ("CAD", Some("CA$"), 2),
    ("AUD", Some("A$"), 2),
    ("NZD", Some("NZ$"), 2),
    ("HKD", Some("HK$"), 2),
    ("CNY", Some("CN¥"), 2),
    ("INR", Some("₹"), 2),
    ("BRL", Some("R$"), 2),
    ("KRW", Some("₩"), 0),
    ("MXN", Some("MX$"), 2),
    ("ILS", Some("₪"), 2),
    ("TWD", Some("NT$"), 2),
    ("VND", Some("₫"), 0),
    ("CHF", None, 2),
    ("SEK", None, 2),
    ("NOK", None, 2),
    ("DKK", None, 2),
    ("PLN", None, 2),
    ("SGD", None, 2),
    ("ZAR", None, 2),
    ("CLP", None, 0),
    ("ISK", None, 0),
    ("PYG", None, 0),
    ("UGX", None, 0),
    ("BHD", None, 3),
    ("IQD", None, 3),
    ("JOD", None, 3),
    ("KWD", None, 3),
    ("LYD", None, 3),
    ("OMR", None, 3),
    ("TND", None, 3),
];

/// Minor units of `currency` (2 when the code is not in the table).
pub fn minor_units(currency: &str) -> u32 {
    lookup(currency).map_or(2, |(_, _, units)| units)
}

fn lookup(currency: &str) -> Option<(&'static str, Option<&'static str>, u32)> {
    CURRENCIES
        .iter()
        .find(|(code, _, _)| code.eq_ignore_ascii_case(currency.trim()))
        .copied()
}

/// `amount` as people read it in `currency` (an ISO 4217 code): the sign before the symbol,
/// thousands grouped with commas, rounded half away from zero to the currency's minor units.
///
/// `-$12.00`, `$1,234.50`, `€1,234.50`, `£0.99`, `¥1,235` (no decimals). A currency without a
/// well-known symbol, or one not in the table, is written with its code after the number, as
/// `1,234.50 CHF` (`-12.00 XYZ`; unknown codes get 2 decimals); an empty code gives the bare
/// number.
pub fn display(amount: Money, currency: &str) -> String {
    let code = currency.trim().to_ascii_uppercase();
    let (symbol, units) = match lookup(&code) {
        Some((_, symbol, units)) => (symbol, units),
        None => (None, 2),
    };
    let number = grouped(amount, units);
    let (sign, digits) = match number.strip_prefix('-') {
        Some(abs) => ("-", abs),
        None => ("", number.as_str()),
    };
    match symbol {
        Some(symbol) => format!("{sign}{symbol}{digits}"),
        None if code.is_empty() => number,
        None => format!("{number} {code}"),
    }
}

/// [`display`] with a `+` before positive amounts: a change, not a level (`+$12.00`, `-$3.50`,
/// `$0.00`).
pub fn display_signed(amount: Money, currency: &str) -> String {
    let shown = display(amount, currency);
    if amount.is_sign_positive() && !shows_as_zero(amount, currency) {
        format!("+{shown}")
    } else {
        shown
    }
}

/// A budget's use as people read it: a whole percent, rounded down (`79%` at 79.6 %), so a status
/// line never shows a threshold as reached before its alert is sent, and "Back under 80%" never
/// reads "80% of". The tolerance keeps a share that is whole in decimals whole: 0.29 × 100 is
/// 28.999… in binary.
pub fn display_percent_used(percent: f64) -> String {
    let whole = (percent + 1e-9).floor();
    // `+ 0.0` turns a floored -0.0 into 0.0, which prints without a sign.
    format!("{:.0}%", whole + 0.0)
}

/// A month-end total with its 80 % interval as every message writes it:
/// `$4,790.67 (80%: $4,100.00–$5,300.00)`.
pub fn display_with_interval(total: Money, lo80: Money, hi80: Money, currency: &str) -> String {
    format!(
        "{} (80%: {}–{})",
        display(total, currency),
        display(lo80, currency),
        display(hi80, currency)
    )
}

/// Whether `amount` reads as zero once rounded to the currency's minor units (`$0.00` for
/// 0.004 USD): a change that small is no change to whoever reads it.
pub fn shows_as_zero(amount: Money, currency: &str) -> bool {
    round(amount, minor_units(currency)).is_zero()
}

fn round(amount: Money, units: u32) -> Money {
    amount.round_dp_with_strategy(units, RoundingStrategy::MidpointAwayFromZero)
}

/// `amount` rounded to `units` decimals, with a leading `-` (never for zero) and commas between
/// thousands.
fn grouped(amount: Money, units: u32) -> String {
    let rounded = round(amount, units);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.*}", units as usize, rounded.abs());
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn percent_used_is_a_whole_percent_rounded_down() {
        assert_eq!(display_percent_used(79.6), "79%");
        assert_eq!(display_percent_used(80.0), "80%");
        assert_eq!(display_percent_used(0.29 * 100.0), "29%");
        assert_eq!(display_percent_used(150.0), "150%");
        assert_eq!(display_percent_used(0.4), "0%");
        assert_eq!(display_percent_used(-0.0), "0%");
        assert_eq!(display_percent_used(-2.5), "-3%");
    }

    #[test]
    fn usd_has_the_sign_before_the_symbol_and_groups_thousands() {
        assert_eq!(display(dec!(-12), "USD"), "-$12.00");
        assert_eq!(display(dec!(1234.5), "USD"), "$1,234.50");
        assert_eq!(display(dec!(1234567.891), "USD"), "$1,234,567.89");
        assert_eq!(display(dec!(-999.999), "USD"), "-$1,000.00");
        assert_eq!(display(dec!(12.5), "usd"), "$12.50");
    }

    #[test]
    fn zero_is_never_negative() {
        assert_eq!(display(dec!(0), "USD"), "$0.00");
        assert_eq!(display(dec!(-0.001), "USD"), "$0.00");
        assert_eq!(display(dec!(-0.4), "JPY"), "¥0");
        assert_eq!(display_signed(dec!(0), "USD"), "$0.00");
        assert_eq!(display_signed(dec!(0.001), "USD"), "$0.00");
    }

    #[test]
    fn each_currency_has_its_symbol_and_minor_units() {
        assert_eq!(display(dec!(1234.5), "EUR"), "€1,234.50");
        assert_eq!(display(dec!(-1234.5), "EUR"), "-€1,234.50");
        assert_eq!(display(dec!(0.99), "GBP"), "£0.99");
        assert_eq!(display(dec!(1234.5), "JPY"), "¥1,235");
        assert_eq!(display(dec!(1233.5), "JPY"), "¥1,234");
        assert_eq!(display(dec!(-1234.5), "JPY"), "-¥1,235");
        assert_eq!(display(dec!(1500000), "KRW"), "₩1,500,000");
        assert_eq!(display(dec!(12.3456), "KWD"), "12.346 KWD");
        assert_eq!(display(dec!(1234.5), "CAD"), "CA$1,234.50");
        assert_eq!(display(dec!(1234.5), "INR"), "₹1,234.50");
    }

    #[test]
    fn codes_without_a_symbol_follow_the_number() {
        assert_eq!(display(dec!(1234.5), "CHF"), "1,234.50 CHF");
        assert_eq!(display(dec!(-12), "CHF"), "-12.00 CHF");
        assert_eq!(display(dec!(1234.5), "XYZ"), "1,234.50 XYZ");
        assert_eq!(display(dec!(1234.5), " xyz "), "1,234.50 XYZ");
        assert_eq!(display(dec!(1234.5), ""), "1,234.50");
    }

    #[test]
    fn half_cents_round_away_from_zero() {
        assert_eq!(display(dec!(0.125), "USD"), "$0.13");
        assert_eq!(display(dec!(-0.125), "USD"), "-$0.13");
        assert_eq!(display(dec!(2.5), "JPY"), "¥3");
    }

    #[test]
    fn large_amounts_keep_every_digit() {
        assert_eq!(
            display(dec!(123456789012345.678), "USD"),
            "$123,456,789,012,345.68"
        );
        assert_eq!(display(dec!(-1000000), "EUR"), "-€1,000,000.00");
        assert_eq!(display(dec!(999.995), "USD"), "$1,000.00");
    }

    #[test]
    fn signed_amounts_show_their_direction() {
        assert_eq!(display_signed(dec!(12), "USD"), "+$12.00");
        assert_eq!(display_signed(dec!(-3.5), "EUR"), "-€3.50");
        assert_eq!(display_signed(dec!(7), "CHF"), "+7.00 CHF");
    }

    #[test]
    fn f64_round_trip_keeps_cents() {
        assert_eq!(from_f64(to_f64(dec!(1043.27))), dec!(1043.27));
    }
}
