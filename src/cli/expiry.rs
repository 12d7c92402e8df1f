//! Expiry on the command line: `lots --expired` and `--expiring-within DAYS`.

use super::args::LotsArgs;
use chrono::{Days, NaiveDate};
use lotline_domain::{Invalid, Lot};

/// Keep the lots the expiry flags ask for. An expired lot is one whose expiry is before
/// `today`; "expiring within N days" means not expired yet and expiring by today + N.
pub fn filter(lots: Vec<Lot>, args: &LotsArgs, today: NaiveDate) -> Result<Vec<Lot>, Invalid> {
    if args.expired {
        return Ok(lots.into_iter().filter(|l| l.is_expired(today)).collect());
    }
    let Some(days) = &args.expiring_within else {
        return Ok(lots);
    };
    let n: u32 = days.trim().parse().map_err(|_| {
        Invalid::new(
            "expiring-within",
            format!("'{days}' is not a number of days; give 0 to 3650"),
        )
    })?;
    if n > 3650 {
        return Err(Invalid::new(
            "expiring-within",
            format!("{n} days is more than ten years; give 0 to 3650"),
        ));
    }
    let until = today
        .checked_add_days(Days::new(n as u64))
        .unwrap_or(NaiveDate::MAX);
    Ok(lots
        .into_iter()
        .filter(|l| l.expiry.is_some_and(|e| e >= today && e <= until))
        .collect())
}
