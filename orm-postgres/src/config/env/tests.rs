//! libpq's environment variables as defaults: each one fills what the connection string (or
//! the builder) leaves unset and nothing else, with libpq's rules for empty values, host and
//! port lists and `PGREQUIRESSL`; a value its parameter does not take is the same typed error
//! as in the string, naming the variable.

use super::{MapEnv, VARIABLES};
use crate::config::tests::tcp;
use crate::config::{ConfigError, ConnectOptions, Host};

fn env(vars: &[(&'static str, &str)]) -> MapEnv {
    MapEnv::of(vars)
}

fn resolve(conninfo: &str, vars: &[(&'static str, &str)]) -> Result<ConnectOptions, ConfigError> {
    ConnectOptions::resolve(conninfo, &[], &env(vars))
        .and_then(|o| o.targets().map(|_| o.clone()).map_err(|e| o.blame(e)))
}

fn options(conninfo: &str, vars: &[(&'static str, &str)]) -> ConnectOptions {
    resolve(conninfo, vars).unwrap_or_else(|e| panic!("{conninfo} {vars:?}: {e}"))
}

fn error(conninfo: &str, vars: &[(&'static str, &str)]) -> ConfigError {
    match resolve(conninfo, vars) {
        Ok(o) => panic!("{conninfo} {vars:?} resolved: {o:?}"),
        Err(e) => e,
    }
}

/// What `o` says of the parameter `param`, to compare.
fn value_of(o: &ConnectOptions, param: &str) -> String {
    let s = &o.ssl;
    match param {
        "host" => format!("{:?}", o.host),
        "hostaddr" => format!("{:?}", o.hostaddr),
        "port" => format!("{:?}", o.port),
        "dbname" => format!("{:?}", o.dbname),
        "user" => format!("{:?}", o.user),
        "password" => format!("{:?}", o.password.as_ref().map(|p| p.expose().to_owned())),
        "passfile" => format!("{:?}", o.passfile),
        "options" => format!("{:?}", o.options),
        "application_name" => format!("{:?}", o.application_name),
        "connect_timeout" => format!("{:?}", o.connect_timeout),
        "channel_binding" => format!("{:?}", o.channel_binding),
        "target_session_attrs" => format!("{:?}", o.target_session_attrs),
        "load_balance_hosts" => format!("{:?}", o.load_balance_random),
        "sslmode" => format!("{:?}", s.mode),
        "sslnegotiation" => format!("{:?}", s.direct),
        "sslrootcert" => format!("{:?}", s.root_cert),
        "sslcert" => format!("{:?}", s.cert),
        "sslkey" => format!("{:?}", s.key),
        "sslcertmode" => format!("{:?}", s.no_client_cert),
        "sslsni" => format!("{:?}", s.no_sni),
        "ssl_min_protocol_version" => format!("{:?}", s.min_version),
        "ssl_max_protocol_version" => format!("{:?}", s.max_version),
        _ => panic!("no field for {param}"),
    }
}

/// Per variable: a value it takes, and another that the string gives instead.
const TAKEN: [(&str, &str, &str); 22] = [
    ("PGHOST", "env.example", "url.example"),
    ("PGHOSTADDR", "10.0.0.1", "10.0.0.2"),
    ("PGPORT", "6000", "7000"),
    ("PGDATABASE", "envdb", "urldb"),
    ("PGUSER", "envuser", "urluser"),
    ("PGPASSWORD", "env-pw", "url-pw"),
    ("PGPASSFILE", "/env/pgpass", "/url/pgpass"),
    ("PGOPTIONS", "-c geqo=off", "-c jit=off"),
    ("PGAPPNAME", "from-env", "from-url"),
    ("PGCONNECT_TIMEOUT", "7", "9"),
    ("PGCHANNELBINDING", "require", "disable"),
    ("PGTARGETSESSIONATTRS", "read-only", "read-write"),
    ("PGLOADBALANCEHOSTS", "random", "disable"),
    ("PGSSLMODE", "verify-full", "disable"),
    ("PGSSLNEGOTIATION", "direct", "postgres"),
    ("PGSSLROOTCERT", "/env/root.crt", "system"),
    ("PGSSLCERT", "/env/client.crt", "/url/client.crt"),
    ("PGSSLKEY", "/env/client.key", "/url/client.key"),
    ("PGSSLCERTMODE", "disable", "allow"),
    ("PGSSLSNI", "0", "1"),
    ("PGSSLMINPROTOCOLVERSION", "TLSv1.3", "TLSv1.2"),
    ("PGSSLMAXPROTOCOLVERSION", "TLSv1.2", "TLSv1.3"),
];

fn param_of(var: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|(v, _)| *v == var)
        .map(|(_, p)| *p)
        .unwrap_or_else(|| panic!("{var} is not read"))
}

/// The string `host=h` plus `param=value` (`hostaddr=127.0.0.9` when `param` is the host).
fn conninfo(param: &str, value: Option<&str>) -> String {
    let mut s = String::from(if param == "host" {
        "hostaddr=127.0.0.9"
    } else {
        "host=h"
    });
    if let Some(v) = value {
        s.push_str(&format!(" {param}='{v}'"));
    }
    s
}

#[test]
fn each_variable_fills_what_the_string_leaves_unset_and_only_that() {
    for (var, from_env, from_string) in TAKEN {
        let param = param_of(var);
        let vars = [(var, from_env)];
        let with_env = options(&conninfo(param, None), &vars);
        let as_if_written = options(&conninfo(param, Some(from_env)), &[]);
        let builtin = options(&conninfo(param, None), &[]);
        assert_eq!(
            value_of(&with_env, param),
            value_of(&as_if_written, param),
            "{var} gives {param} as the string would"
        );
        assert_ne!(
            value_of(&with_env, param),
            value_of(&builtin, param),
            "{var} changes {param}"
        );
        assert_eq!(with_env.from_env, [(param, var)], "{var}");
        // The string wins, in either form.
        let written = options(&conninfo(param, Some(from_string)), &vars);
        assert_eq!(
            value_of(&written, param),
            value_of(&options(&conninfo(param, Some(from_string)), &[]), param),
            "{param} in the string wins over {var}"
        );
        assert!(written.from_env.is_empty(), "{var}");
        let encoded = from_string.replace(' ', "%20");
        let url = if param == "host" {
            format!("postgres:///?hostaddr=127.0.0.9&host={encoded}")
        } else {
            format!("postgres://h/?{param}={encoded}")
        };
        assert_eq!(
            value_of(&options(&url, &vars), param),
            value_of(&written, param),
            "{url}: the URL's {param} wins over {var}"
        );
    }
}

#[test]
fn the_url_s_parts_win_and_its_empty_parts_do_not() {
    let vars = [
        ("PGHOST", "envhost"),
        ("PGPORT", "6000"),
        ("PGUSER", "envuser"),
        ("PGPASSWORD", "env-pw"),
        ("PGDATABASE", "envdb"),
    ];
    let o = options("postgres://u:pw@h:1/d", &vars);
    assert_eq!(o.targets().expect("targets"), [tcp("h", 1)]);
    assert_eq!(
        (o.user.as_deref(), o.dbname.as_deref()),
        (Some("u"), Some("d"))
    );
    assert_eq!(o.password.expect("a password").expose(), "pw");
    // As in libpq, an empty part of a URL is no setting: the environment fills it.
    let o = options("postgres://:@/", &vars);
    assert_eq!(o.targets().expect("targets"), [tcp("envhost", 6000)]);
    assert_eq!(o.user.as_deref(), Some("envuser"));
    assert_eq!(o.dbname.as_deref(), Some("envdb"));
    assert_eq!(o.password.expect("a password").expose(), "env-pw");
    // An empty value in a key-value string is a setting (libpq stores it): `host=` is the
    // default server, whatever PGHOST says.
    let o = options("host='' dbname=d", &vars);
    assert!(matches!(
        o.targets().expect("targets")[0].host,
        Host::Unix(_)
    ));
    let o = options("host=h port=", &vars);
    assert_eq!(o.targets().expect("targets"), [tcp("h", 5432)]);
}

#[test]
fn host_and_port_lists_follow_libpq() {
    // One port for every host, or one per host.
    let o = options("", &[("PGHOST", "a,b"), ("PGPORT", "5433")]);
    assert_eq!(
        o.targets().expect("targets"),
        [tcp("a", 5433), tcp("b", 5433)]
    );
    let o = options("", &[("PGHOST", "a,b"), ("PGPORT", "1,2")]);
    assert_eq!(o.targets().expect("targets"), [tcp("a", 1), tcp("b", 2)]);
    // The string's hosts with the environment's ports.
    let o = options("host=a,b", &[("PGPORT", "1,2")]);
    assert_eq!(o.targets().expect("targets"), [tcp("a", 1), tcp("b", 2)]);
    // A URL with several hosts has a port list (`,`), so PGPORT is not read.
    let o = options("postgres://a,b/d", &[("PGPORT", "6000")]);
    assert_eq!(
        o.targets().expect("targets"),
        [tcp("a", 5432), tcp("b", 5432)]
    );
    let o = options("postgres://a/d", &[("PGPORT", "6000")]);
    assert_eq!(o.targets().expect("targets"), [tcp("a", 6000)]);
    // A socket directory, and an address without a name.
    let o = options("", &[("PGHOST", "/run/postgresql")]);
    assert_eq!(
        o.targets().expect("targets")[0].host,
        Host::Unix("/run/postgresql".into())
    );
    let o = options("", &[("PGHOSTADDR", "127.0.0.1")]);
    assert_eq!(
        o.targets().expect("targets")[0].host,
        Host::Tcp("127.0.0.1".into())
    );
    // Mismatched lists name the variable.
    let e = error("host=a,b,c", &[("PGPORT", "1,2")]);
    assert_eq!(
        e,
        ConfigError::HostCountMismatch {
            hosts: 3,
            list: "PGPORT",
            count: 2
        }
    );
    assert!(e.to_string().contains("2 PGPORT value(s)"), "{e}");
    let e = error("", &[("PGHOST", "a,b"), ("PGHOSTADDR", "127.0.0.1")]);
    assert!(
        matches!(
            e,
            ConfigError::HostCountMismatch {
                list: "PGHOSTADDR",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn empty_variables_are_set_as_in_libpq() {
    // libpq's getenv: set to the empty string is set. Where the empty value means the
    // default, so it does here; where it is no valid value, it is an error naming the
    // variable (the built-in default is not used).
    let o = options(
        "host=h",
        &[("PGPORT", ""), ("PGUSER", ""), ("PGPASSWORD", "")],
    );
    assert_eq!(o.targets().expect("targets"), [tcp("h", 5432)]);
    assert_eq!((o.user, o.password), (None, None));
    let o = options("", &[("PGHOST", "")]);
    assert!(matches!(
        o.targets().expect("targets")[0].host,
        Host::Unix(_)
    ));
    for var in [
        "PGSSLMODE",
        "PGCONNECT_TIMEOUT",
        "PGTARGETSESSIONATTRS",
        "PGLOADBALANCEHOSTS",
        "PGSSLNEGOTIATION",
        "PGCHANNELBINDING",
    ] {
        match error("host=h", &[(var, "")]) {
            ConfigError::InvalidValue { name, value, .. } => {
                assert_eq!((name.as_str(), value.as_str()), (var, ""));
            }
            e => panic!("{var}: {e:?}"),
        }
    }
}

#[test]
fn bad_values_are_typed_errors_naming_the_variable_and_no_secret() {
    let secrets = [("PGPASSWORD", "hunter2")];
    for (var, value) in [
        ("PGPORT", "abc"),
        ("PGPORT", "0"),
        ("PGPORT", "70000"),
        ("PGCONNECT_TIMEOUT", "-1"),
        ("PGCONNECT_TIMEOUT", "ten"),
        ("PGHOSTADDR", "db.example"),
        ("PGSSLMODE", "verify"),
        ("PGTARGETSESSIONATTRS", "rw"),
        ("PGLOADBALANCEHOSTS", "yes"),
        ("PGSSLNEGOTIATION", "tls"),
        ("PGCHANNELBINDING", "always"),
        ("PGSSLSNI", "yes"),
        ("PGSSLCERTMODE", "sometimes"),
        ("PGSSLCOMPRESSION", "yes"),
        ("PGSSLMINPROTOCOLVERSION", "TLSv9"),
        ("PGSSLMAXPROTOCOLVERSION", "SSLv3"),
        ("PGGSSENCMODE", "maybe"),
    ] {
        let mut vars = secrets.to_vec();
        vars.push((var, value));
        let e = error("host=h", &vars);
        match &e {
            ConfigError::InvalidValue { name, value: v, .. } => {
                assert_eq!((name.as_str(), v.as_str()), (var, value), "{e}");
            }
            _ => panic!("{var}={value}: {e:?}"),
        }
        let text = e.to_string();
        assert!(text.contains(var), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    let e = error("host=a,b", &[("PGPORT", "1,x")]);
    assert!(
        matches!(&e, ConfigError::InvalidValue { name, .. } if name == "PGPORT"),
        "{e:?}"
    );
}

#[test]
fn unsupported_values_are_the_string_s_error_naming_the_variable() {
    for (var, value) in [
        ("PGSSLMODE", "allow"),
        ("PGSERVICE", "billing"),
        ("PGTARGETSESSIONATTRS", "primary"),
        ("PGTARGETSESSIONATTRS", "prefer-standby"),
        ("PGGSSENCMODE", "require"),
        ("PGSSLCRL", "/etc/crl.pem"),
        ("PGSSLCRLDIR", "/etc/crl"),
        ("PGREQUIREPEER", "postgres"),
        ("PGREQUIREAUTH", "scram-sha-256"),
        ("PGCLIENTENCODING", "LATIN1"),
        ("PGSSLCERTMODE", "require"),
        ("PGSSLMINPROTOCOLVERSION", "TLSv1.1"),
        ("PGHOST", "@abstract"),
    ] {
        let param = param_of(var);
        let in_string = error(&conninfo(param, Some(value)), &[]);
        let from_env = error(&conninfo(param, None), &[(var, value)]);
        match (&in_string, &from_env) {
            (
                ConfigError::Unsupported {
                    name: n1,
                    value: v1,
                    hint: h1,
                },
                ConfigError::Unsupported {
                    name: n2,
                    value: v2,
                    hint: h2,
                },
            ) => {
                assert_eq!(n1, param, "{in_string}");
                assert_eq!(n2, var, "{from_env}");
                assert_eq!((v1, h1), (v2, h2), "{var}");
            }
            _ => panic!("{var}={value}: {in_string:?} / {from_env:?}"),
        }
        assert!(from_env.to_string().contains(var), "{from_env}");
    }
}

#[test]
fn variables_with_no_effect_here_are_accepted_as_in_the_string() {
    // No GSSAPI: its settings configure nothing (as `krbsrvname=` in the string); UTF8 is the
    // only encoding; compression is obsolete.
    for (var, value) in [
        ("PGKRBSRVNAME", "postgres"),
        ("PGGSSLIB", "gssapi"),
        ("PGGSSDELEGATION", "1"),
        ("PGGSSENCMODE", "prefer"),
        ("PGCLIENTENCODING", "UTF8"),
        ("PGSSLCOMPRESSION", "0"),
    ] {
        let o = options("host=h", &[(var, value)]);
        assert_eq!(o.from_env, [(param_of(var), var)], "{var}");
    }
}

#[test]
fn pgrequiressl_means_require_unless_sslmode_is_given() {
    use crate::SslMode;
    let mode = |conninfo: &str, vars: &[(&'static str, &str)]| options(conninfo, vars).ssl.mode;
    assert_eq!(
        mode("host=h", &[("PGREQUIRESSL", "1")]),
        Some(SslMode::Require)
    );
    assert_eq!(mode("host=h", &[("PGREQUIRESSL", "0")]), None);
    assert_eq!(mode("host=h", &[("PGREQUIRESSL", "yes")]), None);
    assert_eq!(
        mode("host=h", &[("PGREQUIRESSL", "1"), ("PGSSLMODE", "prefer")]),
        Some(SslMode::Prefer)
    );
    assert_eq!(
        mode("host=h sslmode=disable", &[("PGREQUIRESSL", "1")]),
        Some(SslMode::Disable)
    );
    // `requiressl` in the string is its `sslmode`: PGSSLMODE is not read.
    assert_eq!(
        mode("host=h requiressl=0", &[("PGSSLMODE", "verify-full")]),
        Some(SslMode::Prefer)
    );
}

#[test]
fn parameters_the_caller_gives_are_not_read_from_the_environment() {
    let e = env(&[("PGSSLMODE", "allow"), ("PGDATABASE", "envdb")]);
    let o = ConnectOptions::resolve("host=h", &["sslmode", "dbname"], &e).expect("resolves");
    assert_eq!((o.ssl.mode, o.dbname), (None, None));
}
