//! `ficx::setup` rendered in every format over a few representative plans:
//! - golden files under `tests/golden/setup/` (regenerate with `scripts/golden.sh`);
//! - structural checks per language, with small decoders written from each language's quoting
//!   rules, so every value (including a description full of quotes, `$`, backticks and newlines)
//!   is proven to come back byte for byte;
//! - the real tool where one is installed (bash, terraform, python-hcl2 in a venv, pwsh, bicep);
//!   a missing tool prints `SKIPPED: …` on stderr and the check passes.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use ficx::{Cloud, SetupFormat, SetupPlan};
use serde_json::{Value, json};

const A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
const MI_OBJ: &str = "5f5f5f5f-0000-4000-8000-000000000005";
const APP: &str = "c0c0c0c0-0000-4000-8000-00000000c0c0";
const APP_OBJ: &str = "0b0b0b0b-0000-4000-8000-00000000000b";
const B1: &str = "bbbbbbbb-0000-4000-8000-00000000000b";
const B2: &str = "contoso.onmicrosoft.com";

/// A description with everything that breaks naive quoting in one language or another.
const NASTY: &str =
    "Ops' \"prod\" key: $HOME ${x} %{ if } `whoami` $(id) \\ C:\\path\nline 2\ttab ‘smart’ é";

fn jwt(claims: &Value) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        e.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        e.encode(claims.to_string())
    )
}

/// The representative plans, by golden-file stem.
fn plans() -> Vec<(&'static str, SetupPlan)> {
    let token = ficx::jwt::decode_unverified(&jwt(&json!({
        "aud": "api://AzureADTokenExchange",
        "iss": format!("https://login.microsoftonline.com/{A}/v2.0"),
        "sub": MI_OBJ,
        "oid": MI_OBJ,
        "tid": A,
        "xms_mirid": "/subscriptions/11111111-0000-4000-8000-000000000001/resourcegroups/rg-orders/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders-api",
        "exp": 2_000_000_000,
    })))
    .unwrap();
    vec![
        (
            "ids-appid-only",
            SetupPlan::builder()
                .mi_tenant(A)
                .mi_object_id(MI_OBJ)
                .app_client_id(APP)
                .build()
                .unwrap(),
        ),
        (
            "token-objid-consent",
            SetupPlan::builder()
                .mi_token(&token)
                .app_object_id(APP_OBJ)
                .app_client_id(APP)
                .consent_tenants([B1, B2])
                .build()
                .unwrap(),
        ),
        (
            "usgov",
            SetupPlan::builder()
                .cloud(Cloud::UsGov)
                .mi_tenant(A)
                .mi_object_id(MI_OBJ)
                .mi_name("gov-worker")
                .app_object_id(APP_OBJ)
                .consent_tenant(B1)
                .build()
                .unwrap(),
        ),
        (
            "china",
            SetupPlan::builder()
                .cloud(Cloud::China)
                .mi_tenant(A)
                .mi_object_id(MI_OBJ)
                .app_client_id(APP)
                .app_object_id(APP_OBJ)
                .consent_tenant(B2)
                .build()
                .unwrap(),
        ),
        (
            "warnings",
            SetupPlan::builder()
                .mi_tenant(A)
                .mi_object_id(MI_OBJ)
                .system_assigned(true)
                .app_client_id(APP)
                .name("my fic!")
                .issuer(&format!("https://login.microsoftonline.us/{A}/v2.0/"))
                .audience("api://AzureADTokenExchangeUSGov")
                .description(NASTY)
                .consent_tenant(B2)
                .build()
                .unwrap(),
        ),
    ]
}

/// More plans that are not kept as golden files, only checked structurally: odd values in every
/// field a renderer quotes.
fn odd_plans() -> Vec<SetupPlan> {
    let odd = [
        "", "'", "''", "\\", "$", "${", "$${a}", "%{", "`", "\r\n", "\u{2028}", "\u{7}", "’", NASTY,
    ];
    odd.iter()
        .map(|d| {
            SetupPlan::builder()
                .mi_tenant(A)
                .mi_object_id(MI_OBJ)
                .app_client_id(APP)
                .name(&format!("n{d}"))
                .description(d)
                .audience(&format!("api://x{d}"))
                .build()
                .unwrap()
        })
        .collect()
}

fn all_plans() -> Vec<(String, SetupPlan)> {
    let mut v: Vec<(String, SetupPlan)> = plans()
        .into_iter()
        .map(|(n, p)| (n.to_owned(), p))
        .collect();
    v.extend(
        odd_plans()
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("odd-{i}"), p)),
    );
    v
}

// ---------------------------------------------------------------------------------------------
// Golden files

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/setup")
}

/// `FICX_UPDATE_GOLDEN=1` (set by `scripts/golden.sh`) rewrites the golden files instead of
/// comparing. Tests only: the library reads the environment through `ficx::Env`.
#[allow(clippy::disallowed_methods)]
fn update_golden() -> bool {
    std::env::var_os("FICX_UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

fn golden_name(stem: &str, f: SetupFormat) -> String {
    format!("{stem}.{}", f.file_extension())
}

/// Where two texts first differ, for the failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        if e.get(i) != a.get(i) {
            return format!(
                "first difference at line {}:\n      expected: {:?}\n      actual:   {:?}",
                i + 1,
                e.get(i).copied().unwrap_or("<end of file>"),
                a.get(i).copied().unwrap_or("<end of file>")
            );
        }
    }
    "the texts differ only in line endings or the final newline".to_owned()
}

#[test]
fn golden_files() {
    let dir = golden_dir();
    let update = update_golden();
    let mut expected_files = BTreeSet::new();
    let mut problems = Vec::new();
    for (stem, plan) in plans() {
        for f in SetupFormat::ALL {
            let file = golden_name(stem, f);
            let actual = plan.render(f);
            let path = dir.join(&file);
            expected_files.insert(file.clone());
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                if std::fs::read_to_string(&path).ok().as_deref() != Some(actual.as_str()) {
                    std::fs::write(&path, &actual).unwrap();
                    problems.push(format!("updated {file}"));
                }
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == actual => {}
                Ok(expected) => problems.push(format!(
                    "{file} differs; {}",
                    first_difference(&expected, &actual)
                )),
                Err(e) => problems.push(format!("{file} cannot be read: {e}")),
            }
        }
    }
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !expected_files.contains(&name) {
            if update {
                std::fs::remove_file(entry.path()).unwrap();
                problems.push(format!("removed stale {name}"));
            } else {
                problems.push(format!("{name} is stale: no plan renders it"));
            }
        }
    }
    if update {
        for p in &problems {
            skipped_line(&format!("golden: {p}"));
        }
        return;
    }
    assert!(
        problems.is_empty(),
        "golden files under tests/golden/setup/ do not match the renderers:\n  - {}\n\
         If the change is intended, run scripts/golden.sh and review `git diff tests/golden`.",
        problems.join("\n  - ")
    );
}

// ---------------------------------------------------------------------------------------------
// Language decoders (written from each language's reference, independent of src/setup/quote.rs)

/// POSIX shell words of one logical line: whitespace separates, `'…'` is literal, `\x` is `x`,
/// `"…"` is refused (the renderers never write it), an unquoted `#` starts a comment.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().expect("escaped character"));
            }
            '"' => panic!("double quotes in shell line {line:?}"),
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                assert!(
                    !"$`;&|<>(){}".contains(c),
                    "unquoted shell metacharacter {c:?} in {line:?}"
                );
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The commands of a bash snippet: comments dropped, `\` continuations joined.
fn shell_commands(script: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in script.lines() {
        if logical.is_empty() && line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            logical.push_str(head);
            continue;
        }
        logical.push_str(line);
        let words = shell_words(&logical);
        if !words.is_empty() {
            out.push(words);
        }
        logical.clear();
    }
    out
}

/// Decode an HCL quoted template string that holds no interpolation.
fn hcl_decode(q: &str) -> String {
    let inner: Vec<char> = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a quoted HCL string: {q}"))
        .chars()
        .collect();
    let mut out = String::new();
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            '\\' => {
                i += 1;
                match inner[i] {
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let hex: String = inner[i + 1..i + 5].iter().collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                        i += 4;
                    }
                    e => panic!("unknown HCL escape \\{e} in {q}"),
                }
            }
            c @ ('$' | '%') if inner.get(i + 1) == Some(&c) && inner.get(i + 2) == Some(&'{') => {
                out.push(c);
                out.push('{');
                i += 2;
            }
            c @ ('$' | '%') if inner.get(i + 1) == Some(&'{') => {
                panic!("live template sequence {c}{{ in {q}")
            }
            '"' => panic!("unescaped quote in {q}"),
            c if c.is_control() => panic!("raw control character in {q}"),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Read one Bicep single-quoted string starting at `s[0] == '\''`; returns the value and the rest.
fn bicep_string(s: &str) -> (String, &str) {
    assert!(s.starts_with('\''), "not a Bicep string: {s:.40}");
    let mut out = String::new();
    let mut it = s.char_indices().skip(1);
    while let Some((i, c)) = it.next() {
        match c {
            '\'' => return (out, &s[i + 1..]),
            '\\' => match it.next().unwrap().1 {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '$' => out.push('$'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    assert_eq!(it.next().unwrap().1, '{');
                    let hex: String = it
                        .by_ref()
                        .map(|(_, c)| c)
                        .take_while(|c| *c != '}')
                        .collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                e => panic!("unknown Bicep escape \\{e}"),
            },
            '$' => {
                // Only the name's leading `${app.uniqueName}` may interpolate.
                assert!(
                    s[i..].starts_with("${app.uniqueName}"),
                    "live interpolation in {s:.60}"
                );
                out.push_str("${app.uniqueName}");
                for _ in 0.."{app.uniqueName}".len() {
                    it.next();
                }
            }
            '\n' | '\r' => panic!("raw line break in a Bicep string"),
            c => out.push(c),
        }
    }
    panic!("unterminated Bicep string")
}

/// Read one PowerShell single-quoted string (quotes doubled inside; PowerShell treats U+2018 to
/// U+201B as single quotes too); returns the value and the rest.
fn ps_string(s: &str) -> (String, &str) {
    let is_q = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let mut it = s.char_indices().peekable();
    let (_, first) = it.next().unwrap();
    assert!(is_q(first), "not a PowerShell string: {s:.40}");
    let mut out = String::new();
    while let Some((i, c)) = it.next() {
        if is_q(c) {
            match it.peek() {
                Some(&(_, n)) if is_q(n) => {
                    out.push(c);
                    it.next();
                }
                _ => return (out, &s[i + c.len_utf8()..]),
            }
        } else {
            out.push(c);
        }
    }
    panic!("unterminated PowerShell string")
}

/// Brackets balanced outside strings and comments, for HCL (`"…"`, `#`) or Bicep (`'…'`, `//`).
fn balanced(src: &str, quote: char, comment: &str) -> bool {
    let mut stack = Vec::new();
    for line in src.lines() {
        let mut chars = line.char_indices().peekable();
        let mut in_str = false;
        while let Some((i, c)) = chars.next() {
            if in_str {
                if c == '\\' {
                    chars.next();
                } else if c == quote {
                    in_str = false;
                }
                continue;
            }
            if line[i..].starts_with(comment) {
                break;
            }
            match c {
                c if c == quote => in_str = true,
                '{' | '[' | '(' => stack.push(c),
                '}' | ']' | ')' => {
                    let open = stack.pop();
                    let want = match c {
                        '}' => '{',
                        ']' => '[',
                        _ => '(',
                    };
                    if open != Some(want) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        if in_str {
            return false;
        }
    }
    stack.is_empty()
}

// ---------------------------------------------------------------------------------------------
// Structural checks

#[derive(Debug, PartialEq)]
struct Fic {
    name: String,
    issuer: String,
    subject: String,
    audiences: Vec<String>,
    description: String,
}

fn expected_fic(p: &SetupPlan) -> Fic {
    Fic {
        name: p.name().to_owned(),
        issuer: p.issuer().to_owned(),
        subject: p.subject().to_owned(),
        audiences: p.audiences().to_vec(),
        description: p.description().to_owned(),
    }
}

fn fic_from_json(v: &Value) -> Fic {
    let obj = v.as_object().expect("a JSON object");
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["name", "issuer", "subject", "audiences", "description"])
    );
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    Fic {
        name: s("name"),
        issuer: s("issuer"),
        subject: s("subject"),
        audiences: v["audiences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        description: s("description"),
    }
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn json_has_exactly_the_documented_fields() {
    for (stem, p) in all_plans() {
        let v: Value = serde_json::from_str(&p.render(SetupFormat::Json)).unwrap();
        assert_eq!(
            keys(&v),
            BTreeSet::from([
                "name",
                "issuer",
                "subject",
                "audiences",
                "description",
                "app",
                "cloud",
                "mi",
                "consent",
                "warnings"
            ]),
            "{stem}"
        );
        assert_eq!(keys(&v["app"]), BTreeSet::from(["client_id", "object_id"]));
        assert_eq!(
            keys(&v["mi"]),
            BTreeSet::from(["tenant", "object_id", "name", "system_assigned"])
        );
        for c in v["consent"].as_array().unwrap() {
            assert_eq!(keys(c), BTreeSet::from(["tenant", "url", "sp_create"]));
        }
        for w in v["warnings"].as_array().unwrap() {
            assert_eq!(keys(w), BTreeSet::from(["code", "message"]));
            assert!(!w["message"].as_str().unwrap().contains('\n'));
        }
        assert_eq!(v["name"], p.name());
        assert_eq!(v["issuer"], p.issuer());
        assert_eq!(v["subject"], p.subject());
        assert_eq!(v["audiences"], json!(p.audiences()));
        assert_eq!(v["description"], p.description());
        assert_eq!(v["cloud"], p.cloud().name());
        assert_eq!(v["mi"]["tenant"], p.mi_tenant().as_str());
        assert_eq!(v["mi"]["object_id"], p.subject());
        assert_eq!(v["mi"]["system_assigned"], p.mi_system_assigned());
        assert_eq!(
            v["consent"].as_array().unwrap().len(),
            p.consent_urls().len()
        );
        let codes: Vec<&str> = p.warnings().iter().map(|w| w.code.as_str()).collect();
        let json_codes: Vec<&str> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, json_codes);
    }
    let (_, token_plan) = &plans()[1];
    let v: Value = serde_json::from_str(&token_plan.render(SetupFormat::Json)).unwrap();
    assert_eq!(v["app"], json!({"client_id": APP, "object_id": APP_OBJ}));
    assert_eq!(v["mi"]["name"], "orders-api");
    assert_eq!(
        v["consent"][1],
        json!({
            "tenant": B2,
            "url": format!("https://login.microsoftonline.com/{B2}/adminconsent?client_id={APP}"),
            "sp_create": format!("az ad sp create --id {APP}"),
        })
    );
}

#[test]
fn az_snippet_parses_and_carries_the_exact_values() {
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::Az);
        let cmds = shell_commands(&out);
        let create = &cmds[0];
        assert_eq!(
            create[..5],
            ["az", "ad", "app", "federated-credential", "create"],
            "{stem}"
        );
        assert_eq!(create[5], "--id");
        let want_id = p
            .app_object_id()
            .map(ToString::to_string)
            .or(p.app_client_id().map(ToString::to_string))
            .unwrap();
        assert_eq!(create[6], want_id);
        assert_eq!(create[7], "--parameters");
        let params: Value = serde_json::from_str(&create[8]).unwrap();
        assert_eq!(fic_from_json(&params), expected_fic(&p), "{stem}");
        assert_eq!(create.len(), 9);
        let sp: Vec<&Vec<String>> = cmds[1..].iter().collect();
        let with_url = p.consent_urls().iter().filter(|c| c.url.is_some()).count();
        assert_eq!(sp.len(), with_url, "{stem}: one az ad sp create per tenant");
        for c in sp {
            assert_eq!(
                *c,
                [
                    "az",
                    "ad",
                    "sp",
                    "create",
                    "--id",
                    p.app_client_id().unwrap().as_str()
                ]
            );
        }
        for s in p.consent_urls() {
            assert!(out.contains(&format!(
                "# in tenant {0}: az login --tenant {0}\n",
                s.tenant
            )));
            if let Some(url) = &s.url {
                assert!(out.contains(url.as_str()));
            }
        }
    }
}

#[test]
fn graph_request_and_az_rest_line() {
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::Graph);
        let lines: Vec<&str> = out.lines().collect();
        let post = lines.iter().position(|l| l.starts_with("POST ")).unwrap();
        let url = lines[post].strip_prefix("POST ").unwrap();
        let want = match (p.app_object_id(), p.cloud()) {
            (Some(obj), Cloud::UsGov) => {
                format!(
                    "https://graph.microsoft.us/v1.0/applications/{obj}/federatedIdentityCredentials"
                )
            }
            (Some(obj), Cloud::China) => format!(
                "https://microsoftgraph.chinacloudapi.cn/v1.0/applications/{obj}/federatedIdentityCredentials"
            ),
            (Some(obj), _) => {
                format!(
                    "https://graph.microsoft.com/v1.0/applications/{obj}/federatedIdentityCredentials"
                )
            }
            (None, _) => format!(
                "https://graph.microsoft.com/v1.0/applications(appId='{}')/federatedIdentityCredentials",
                p.app_client_id().unwrap()
            ),
        };
        assert_eq!(url, want, "{stem}");
        assert_eq!(lines[post + 1], "Content-Type: application/json");
        assert_eq!(lines[post + 2], "");
        let end = post + 3 + lines[post + 3..].iter().position(|l| l.is_empty()).unwrap();
        let body: Value = serde_json::from_str(&lines[post + 3..end].join("\n")).unwrap();
        assert_eq!(fic_from_json(&body), expected_fic(&p), "{stem}");

        let rest = lines
            .iter()
            .find_map(|l| l.strip_prefix("# az rest "))
            .unwrap();
        let words = shell_words(&format!("az rest {rest}"));
        let arg = |flag: &str| {
            let i = words.iter().position(|w| w == flag).unwrap();
            words[i + 1].clone()
        };
        assert_eq!(arg("--method"), "POST");
        assert_eq!(arg("--uri"), want);
        assert_eq!(arg("--headers"), "Content-Type=application/json");
        let body: Value = serde_json::from_str(&arg("--body")).unwrap();
        assert_eq!(fic_from_json(&body), expected_fic(&p), "{stem}");
    }
}

/// The `key = value` attributes of the first block whose header starts with `header`.
fn hcl_block<'a>(src: &'a str, header: &str) -> Vec<(&'a str, &'a str)> {
    let start = src
        .lines()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("no block {header}"));
    src.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('}'))
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once(" = ")
                .unwrap_or_else(|| panic!("not an attribute: {l}"));
            (k.trim(), v.trim())
        })
        .collect()
}

#[test]
fn terraform_structure() {
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::Terraform);
        assert!(
            balanced(&out, '"', "#"),
            "{stem}: unbalanced brackets\n{out}"
        );
        assert!(!out.contains("azurerm"), "{stem}");
        assert!(
            out.contains("      source  = \"hashicorp/azuread\"\n"),
            "{stem}"
        );
        let attrs = hcl_block(
            &out,
            "resource \"azuread_application_federated_identity_credential\" \"ficx\" {",
        );
        let names: Vec<&str> = attrs.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "application_id",
                "display_name",
                "description",
                "audiences",
                "issuer",
                "subject"
            ],
            "{stem}"
        );
        let get = |k: &str| attrs.iter().find(|(n, _)| *n == k).unwrap().1;
        // Exactly one audience: `["…"]`.
        let one = get("audiences")
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap();
        let audiences = vec![hcl_decode(one)];
        let fic = Fic {
            name: hcl_decode(get("display_name")),
            issuer: hcl_decode(get("issuer")),
            subject: hcl_decode(get("subject")),
            audiences,
            description: hcl_decode(get("description")),
        };
        assert_eq!(fic, expected_fic(&p), "{stem}");
        match p.app_object_id() {
            Some(obj) => assert_eq!(get("application_id"), format!("\"/applications/{obj}\"")),
            None => {
                assert_eq!(get("application_id"), "data.azuread_application.app.id");
                let data = hcl_block(&out, "data \"azuread_application\" \"app\" {");
                assert_eq!(
                    data,
                    [(
                        "client_id",
                        format!("\"{}\"", p.app_client_id().unwrap()).as_str()
                    )]
                );
            }
        }
        let provider = hcl_block(&out, "provider \"azuread\" {");
        assert_eq!(
            provider[0],
            ("tenant_id", format!("\"{}\"", p.mi_tenant()).as_str())
        );
    }
}

/// The `key: value` lines of the FIC resource in a Bicep file, values decoded.
fn bicep_fic(src: &str) -> Fic {
    let header =
        "resource fic 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {\n";
    let start = src.find(header).expect("the FIC resource") + header.len();
    let mut rest = &src[start..];
    let mut fic = Fic {
        name: String::new(),
        issuer: String::new(),
        subject: String::new(),
        audiences: Vec::new(),
        description: String::new(),
    };
    let mut seen = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\n']);
        if let Some(r) = rest.strip_prefix('}') {
            assert!(r.starts_with('\n'));
            break;
        }
        let (key, r) = rest.split_once(": ").expect("a property");
        seen.push(key.to_owned());
        if key == "audiences" {
            let mut r = r.strip_prefix("[\n").expect("an array");
            loop {
                r = r.trim_start_matches([' ', '\n']);
                if let Some(after) = r.strip_prefix(']') {
                    rest = after;
                    break;
                }
                let (v, after) = bicep_string(r);
                fic.audiences.push(v);
                r = after;
            }
            continue;
        }
        let (v, after) = bicep_string(r);
        rest = after;
        match key {
            "name" => {
                fic.name = v
                    .strip_prefix("${app.uniqueName}/")
                    .expect("name under the app")
                    .to_owned()
            }
            "issuer" => fic.issuer = v,
            "subject" => fic.subject = v,
            "description" => fic.description = v,
            k => panic!("unexpected property {k}"),
        }
    }
    assert_eq!(
        seen,
        ["name", "issuer", "subject", "audiences", "description"]
    );
    fic
}

#[test]
fn bicep_structure() {
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::Bicep);
        assert!(
            balanced(&out, '\'', "//"),
            "{stem}: unbalanced brackets\n{out}"
        );
        assert!(out.contains("\nextension microsoftGraphV1\n"), "{stem}");
        assert!(out.contains("br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:"));
        assert!(out.contains("\nparam appUniqueName string\n"));
        assert!(out.contains(
            "\nresource app 'Microsoft.Graph/applications@v1.0' existing = {\n  uniqueName: appUniqueName\n}\n"
        ));
        assert_eq!(bicep_fic(&out), expected_fic(&p), "{stem}");
    }
}

/// The hashtable passed as `-BodyParameter @{…}`, values decoded.
fn powershell_fic(src: &str) -> (String, Fic) {
    let call = "New-MgApplicationFederatedIdentityCredential -ApplicationId ";
    let start = src.find(call).expect("the cmdlet") + call.len();
    let (app, rest) = src[start..].split_once(" -BodyParameter @{\n").unwrap();
    let mut rest = rest;
    let mut fic = Fic {
        name: String::new(),
        issuer: String::new(),
        subject: String::new(),
        audiences: Vec::new(),
        description: String::new(),
    };
    let mut seen = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\n']);
        if rest.starts_with("}\n") {
            break;
        }
        let (key, r) = rest.split_once(" = ").expect("key = value");
        let key = key.trim();
        seen.push(key.to_owned());
        if key == "audiences" {
            let mut r = r.strip_prefix("@(").expect("an array");
            loop {
                let (v, after) = ps_string(r);
                fic.audiences.push(v);
                r = after.trim_start_matches([',', ' ']);
                if let Some(after) = r.strip_prefix(')') {
                    rest = after;
                    break;
                }
            }
            continue;
        }
        let (v, after) = ps_string(r);
        rest = after;
        match key {
            "name" => fic.name = v,
            "issuer" => fic.issuer = v,
            "subject" => fic.subject = v,
            "description" => fic.description = v,
            k => panic!("unexpected key {k}"),
        }
    }
    assert_eq!(
        seen,
        ["name", "issuer", "subject", "audiences", "description"]
    );
    (app.to_owned(), fic)
}

#[test]
fn powershell_structure() {
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::PowerShell);
        let (app, fic) = powershell_fic(&out);
        assert_eq!(fic, expected_fic(&p), "{stem}");
        match p.app_object_id() {
            Some(obj) => assert_eq!(app, format!("'{obj}'")),
            None => {
                assert_eq!(app, "$app.Id");
                assert!(out.contains(&format!(
                    "$app = Get-MgApplication -Filter \"appId eq '{}'\"\n",
                    p.app_client_id().unwrap()
                )));
            }
        }
        let env = match p.cloud() {
            Cloud::UsGov => " -Environment USGov",
            Cloud::China => " -Environment China",
            _ => "",
        };
        assert!(out.contains(&format!(
            "Connect-MgGraph -TenantId '{}' -Scopes 'Application.ReadWrite.All'{env}\n",
            p.mi_tenant()
        )));
    }
}

#[test]
fn text_fits_80_columns_and_names_every_step() {
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::Text);
        // Values stand alone on their lines so they copy whole, however long.
        let values: Vec<String> = [
            p.name(),
            p.issuer(),
            p.subject(),
            p.audience(),
            p.description(),
        ]
        .iter()
        .flat_map(|v| [format!("      {v}"), format!("      {v:?}")])
        .collect();
        for line in out.lines() {
            let n = line.chars().count();
            // Only a value, URL or command that cannot be broken may run past 80 columns.
            let unbreakable = !line.trim_start().contains(' ')
                || line.trim_start().starts_with("az ")
                || values.iter().any(|v| v == line);
            assert!(n <= 80 || unbreakable, "{stem}: {n} columns: {line}");
            assert_eq!(line.trim_end(), line, "{stem}: trailing space: {line:?}");
        }
        for needle in [p.name(), p.mi_tenant().as_str()] {
            let quoted = format!("{needle:?}");
            assert!(
                out.contains(needle) || out.contains(&quoted),
                "{stem}: {needle}"
            );
        }
        assert!(out.contains("NOT its client id"));
        for s in p.consent_urls() {
            if let Some(url) = &s.url {
                assert!(out.contains(&format!("       {url}\n")), "{stem}");
                assert!(out.contains(&format!("       az login --tenant {}\n", s.tenant)));
            }
        }
        for w in p.warnings() {
            assert!(out.contains(&format!("[{}]", w.code)), "{stem}: {}", w.code);
        }
    }
}

#[test]
fn snippets_have_no_trailing_whitespace_and_one_final_newline() {
    for (stem, p) in plans() {
        for f in SetupFormat::ALL {
            let out = p.render(f);
            assert!(out.ends_with('\n') && !out.ends_with("\n\n"), "{stem}.{f}");
            for line in out.lines() {
                assert_eq!(line.trim_end_matches(' '), line, "{stem}.{f}: {line:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Real tools, where installed

/// A line on stderr that `cargo test` does not capture (the print macros are captured; a direct
/// write to the stderr handle is not), so skips are visible in every run.
fn skipped_line(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn tool(name: &str, version_arg: &str) -> bool {
    Command::new(name)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn bash_runs_the_az_snippets_with_a_fake_az() {
    if !tool("bash", "--version") {
        skipped_line(
            "SKIPPED: bash is not installed; the az snippets were checked structurally only",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (stem, p) in all_plans() {
        let path = dir.path().join(format!("{stem}.sh"));
        std::fs::write(&path, p.render(SetupFormat::Az)).unwrap();
        let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(
            syntax.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&syntax.stderr)
        );
        // A fake `az` prints each argument NUL-terminated and each call RS-terminated.
        let run = Command::new("bash")
            .arg("-c")
            .arg(r#"az() { printf '%s\0' "$@"; printf '\036'; }; set -eu; . "$1""#)
            .arg("fake")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stdout = String::from_utf8(run.stdout).unwrap();
        let calls: Vec<Vec<&str>> = stdout
            .split('\u{1e}')
            .filter(|c| !c.is_empty())
            .map(|c| c.trim_end_matches('\0').split('\0').collect())
            .collect();
        // calls[0] is `ad app federated-credential create --id <app> --parameters <json>`.
        assert_eq!(calls[0][6], "--parameters", "{stem}");
        let params: Value = serde_json::from_str(calls[0][7]).unwrap();
        assert_eq!(fic_from_json(&params), expected_fic(&p), "{stem}");
        let with_url = p.consent_urls().iter().filter(|c| c.url.is_some()).count();
        assert_eq!(calls.len(), 1 + with_url, "{stem}");

        // The az rest line of the graph format, uncommented.
        let graph = p.render(SetupFormat::Graph);
        let rest = graph
            .lines()
            .find_map(|l| l.strip_prefix("# az rest "))
            .map(|r| format!("az rest {r}"))
            .unwrap();
        let run = Command::new("bash")
            .arg("-c")
            .arg(r#"az() { printf '%s\0' "$@"; }; eval "$1""#)
            .arg("fake")
            .arg(&rest)
            .output()
            .unwrap();
        assert!(run.status.success(), "{stem}");
        let args: Vec<String> = String::from_utf8(run.stdout)
            .unwrap()
            .trim_end_matches('\0')
            .split('\0')
            .map(str::to_owned)
            .collect();
        let body_at = args.iter().position(|a| a == "--body").unwrap() + 1;
        let body: Value = serde_json::from_str(&args[body_at]).unwrap();
        assert_eq!(fic_from_json(&body), expected_fic(&p), "{stem}");
    }
}

#[test]
fn terraform_fmt_and_console_agree() {
    if !tool("terraform", "version") {
        skipped_line(
            "SKIPPED: terraform is not installed; the Terraform output was checked structurally only",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (stem, p) in all_plans() {
        let out = p.render(SetupFormat::Terraform);
        let path = dir.path().join(format!("{stem}.tf"));
        std::fs::write(&path, &out).unwrap();
        let fmt = Command::new("terraform")
            .env("CHECKPOINT_DISABLE", "1") // no version check over the network
            .args(["fmt", "-check", "-diff", "-no-color"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            fmt.status.success(),
            "{stem}: terraform fmt -check failed:\n{}{}",
            String::from_utf8_lossy(&fmt.stdout),
            String::from_utf8_lossy(&fmt.stderr)
        );
        // Let Terraform itself evaluate every string: base64 keeps its answer free of quoting.
        let attrs = hcl_block(
            &out,
            "resource \"azuread_application_federated_identity_credential\" \"ficx\" {",
        );
        let exprs: Vec<String> = attrs
            .iter()
            .filter(|(k, _)| *k != "application_id")
            .map(|(k, v)| {
                if *k == "audiences" {
                    format!("base64encode(jsonencode({v}))")
                } else {
                    format!("base64encode({v})")
                }
            })
            .collect();
        // `terraform console` evaluates only the last line of piped input: ask for one list.
        let console_dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("terraform")
            .env("CHECKPOINT_DISABLE", "1")
            .arg("console")
            .current_dir(console_dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("[{}]\n", exprs.join(", ")).as_bytes())
            .unwrap();
        let result = child.wait_with_output().unwrap();
        assert!(
            result.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let values: Vec<String> = String::from_utf8(result.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .map(|l| {
                let b64 = l.trim_end_matches(',').trim_end_matches('"');
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .unwrap(),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(values.len(), 5, "{stem}");
        let audiences: Vec<String> = serde_json::from_str(&values[2]).unwrap();
        let fic = Fic {
            name: values[0].clone(),
            description: values[1].clone(),
            audiences,
            issuer: values[3].clone(),
            subject: values[4].clone(),
        };
        assert_eq!(fic, expected_fic(&p), "{stem}");
    }
}

/// python-hcl2 from PyPI, in a venv under the target directory (installed once, reused).
fn hcl2_python() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-hcl2-venv");
    let python = venv.join("bin/python");
    let works = |py: &Path| {
        Command::new(py)
            .args(["-c", "import hcl2"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works(&python) {
        return Ok(python);
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    if !status.success() {
        return Err("python3 -m venv failed".into());
    }
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "20",
            "--retries",
            "1",
            "python-hcl2",
        ])
        .output()
        .map_err(|e| format!("pip could not run ({e})"))?;
    if !pip.status.success() || !works(&python) {
        return Err(format!(
            "pip install python-hcl2 failed: {}",
            String::from_utf8_lossy(&pip.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(python)
}

#[test]
fn python_hcl2_parses_the_terraform_output() {
    let python = match hcl2_python() {
        Ok(p) => p,
        Err(why) => {
            skipped_line(&format!("SKIPPED: python-hcl2 check: {why}"));
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import hcl2, json, sys
for path in sys.argv[1:]:
    with open(path) as f:
        doc = hcl2.load(f)
    res = doc["resource"][0]
    (rtype, body), = res.items()
    (label, attrs), = body.items()
    print(json.dumps({"type": rtype.strip('"'), "label": label.strip('"'),
                      "keys": sorted(k for k in attrs if not k.startswith("__")),
                      "providers": sorted(p.strip('"') for p in doc["terraform"][0]["required_providers"][0] if not p.startswith("__"))}))
"#;
    // python-hcl2 (8.x) rejects an escaped `$${` or `%%{` that no `}` follows, which Terraform
    // itself accepts (terraform_fmt_and_console_agree checks those); leave such plans out here.
    let unterminated = |v: &str| {
        ["${", "%{"]
            .iter()
            .any(|t| v.find(t).is_some_and(|i| !v[i..].contains('}')))
    };
    let plans: Vec<(String, SetupPlan)> = all_plans()
        .into_iter()
        .filter(|(_, p)| {
            ![p.name(), p.description(), p.audience()]
                .into_iter()
                .any(unterminated)
        })
        .collect();
    let mut paths = Vec::new();
    let stems: Vec<String> = plans.iter().map(|(s, _)| s.clone()).collect();
    for (stem, p) in plans {
        let path = dir.path().join(format!("{stem}.tf"));
        std::fs::write(&path, p.render(SetupFormat::Terraform)).unwrap();
        paths.push(path);
    }
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-hcl2 could not parse the Terraform output:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), stems.len());
    for (stem, v) in stems.iter().zip(lines) {
        assert_eq!(
            v,
            json!({
                "type": "azuread_application_federated_identity_credential",
                "label": "ficx",
                "keys": ["application_id", "audiences", "description", "display_name", "issuer", "subject"],
                "providers": ["azuread"],
            }),
            "{stem}"
        );
    }
}

#[test]
fn pwsh_parses_the_powershell_output() {
    if !tool("pwsh", "-Version") {
        skipped_line(
            "SKIPPED: pwsh is not installed; the PowerShell output was checked structurally only",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (stem, p) in all_plans() {
        let path = dir.path().join(format!("{stem}.ps1"));
        std::fs::write(&path, p.render(SetupFormat::PowerShell)).unwrap();
        let check = format!(
            "$e = $null; $t = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('{}', [ref]$t, [ref]$e); if ($e.Count) {{ $e | Out-String | Write-Error; exit 1 }}",
            path.display().to_string().replace('\'', "''")
        );
        let out = Command::new("pwsh")
            .args(["-NoProfile", "-NonInteractive", "-Command", &check])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bicep_cli_builds_the_bicep_output() {
    if !tool("bicep", "--version") {
        skipped_line(
            "SKIPPED: the bicep CLI is not installed; the Bicep output was checked structurally only",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (stem, p) in plans() {
        let path = dir.path().join(format!("{stem}.bicep"));
        std::fs::write(&path, p.render(SetupFormat::Bicep)).unwrap();
        std::fs::write(
            dir.path().join("bicepconfig.json"),
            format!(
                r#"{{"extensions": {{"microsoftGraphV1": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:{}"}}}}"#,
                ficx::setup::BICEP_GRAPH_EXTENSION_VERSION
            ),
        )
        .unwrap();
        let out = Command::new("bicep")
            .arg("build")
            .arg("--stdout")
            .arg(&path)
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() && (log.contains("BCP192") || log.contains("restore")) {
            skipped_line(&format!(
                "SKIPPED: bicep could not restore the Microsoft Graph extension here ({stem})"
            ));
            return;
        }
        assert!(out.status.success(), "{stem}: {log}");
    }
}
