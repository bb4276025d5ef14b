//! The current time. Test builds (feature `test-clock`) honour `CRM_TEST_NOW` so lockouts and
//! session expiry can be tested without sleeping; release builds never read it, so nobody
//! can fake time to revive a session or lift a lockout.

/// Unix seconds now.
pub fn now() -> i64 {
    #[cfg(feature = "test-clock")]
    if let Ok(s) = std::env::var("CRM_TEST_NOW") {
        if let Ok(t) = s.parse::<i64>() {
            return t;
        }
        if let Ok(t) = crate::schema::kinds::parse_datetime(&s) {
            return t;
        }
    }
    chrono::Utc::now().timestamp()
}

/// Today's date in the local time zone.
pub fn today() -> chrono::NaiveDate {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(now(), 0)
        .single()
        .map_or_else(|| chrono::Local::now().date_naive(), |d| d.date_naive())
}
