//! TLS to `PostgreSQL` as libpq's `sslmode` says, against the test cluster's loopback
//! listener (`.ci/run`: a CA of its own, a server certificate for `localhost`). A command
//! on a database with no crm schema reaching "no crm database" proves the connection and a
//! query went through; a refused certificate fails with exit 9 naming why.

use crate::harness::Env;

/// The TLS base URL (`postgresql://postgres@localhost:PORT/postgres`) and the CA file.
fn tls() -> Option<(String, String)> {
    if let (Ok(url), Ok(ca)) = (
        std::env::var("CRM_TEST_PG_TLS"),
        std::env::var("CRM_TEST_PG_CA"),
    ) {
        return Some((url, ca));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CRM_TEST_PG_TLS is unset in CI: .ci/run must start the TLS listener"
    );
    println!("SKIPPED: no TLS PostgreSQL (CRM_TEST_PG_TLS unset)");
    None
}

fn find(env: &Env, url: &str) -> crate::harness::Run {
    env.run(&["find", "customer", "--db", url])
}

#[test]
fn sslmodes_verify_as_libpq_does() {
    let Some((base, ca)) = tls() else { return };
    let env = Env::empty();
    let with = |host: &str, q: &str| base.replacen("localhost", host, 1) + "?" + q;
    // verify-full: the chain and the name.
    let r = find(
        &env,
        &with(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
    );
    r.code(9);
    assert!(r.stderr.contains("no crm database"), "{}", r.stderr);
    let r = find(
        &env,
        &with(
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
    );
    r.code(9).one_error_line();
    assert!(r.stderr.contains("not valid for name"), "{}", r.stderr);
    // verify-ca: the chain only.
    let r = find(
        &env,
        &with("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")),
    );
    assert!(r.stderr.contains("no crm database"), "{}", r.stderr);
    // require: encrypted, any certificate.
    let r = find(&env, &with("127.0.0.1", "sslmode=require"));
    assert!(r.stderr.contains("no crm database"), "{}", r.stderr);
    // verify-full with a root file that holds no certificate: a usage error.
    let bad = env.dir.path().join("not-a-cert.crt");
    std::fs::write(&bad, "hello").unwrap();
    let r = find(
        &env,
        &with(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={}", bad.display()),
        ),
    );
    r.code(2).one_error_line();
    // verify-full with no root anywhere: a usage error naming sslrootcert.
    let r = find(&env, &with("localhost", "sslmode=verify-full"));
    r.code(2);
    assert!(r.stderr.contains("sslrootcert"), "{}", r.stderr);
    // An unknown sslmode: usage error.
    find(&env, &with("localhost", "sslmode=sometimes"))
        .code(2)
        .one_error_line();
}

#[test]
fn pgsslmode_from_the_environment_applies() {
    let Some((base, _ca)) = tls() else { return };
    let env = Env::empty();
    let url = base.replacen("localhost", "127.0.0.1", 1);
    let r = env.run_env(
        &["find", "customer", "--db", &url],
        &[
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", "/nonexistent/root.crt"),
        ],
    );
    r.code(2);
    assert!(r.stderr.contains("/nonexistent/root.crt"), "{}", r.stderr);
}
