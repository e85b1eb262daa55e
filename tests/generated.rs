//! Generated, not copied (issue 15 §5): the error codes with their HTTP answer and the
//! algorithm names that the README, `npm/index.d.ts` and the demo page (`www/`) show are
//! rendered by the core (`jwt_edge::reference`). This test fails when a copy differs;
//! `JWT_EDGE_BLESS=1 cargo test --test generated` rewrites them.
//!
//! Marked regions: a line starting with the start marker, a line starting with the end
//! marker, and the generated text between them (nothing else of the file is touched).

use std::path::Path;

use jwt_edge::reference;

/// One generated region: the file, its marker name, whether the markers must exist,
/// and the text the core renders for it.
struct Region {
    file: &'static str,
    name: &'static str,
    required: bool,
    text: String,
}

fn regions() -> Vec<Region> {
    vec![
        Region {
            file: "README.md",
            name: "error-codes",
            required: true,
            text: reference::readme_error_codes(),
        },
        Region {
            file: "README.md",
            name: "options",
            required: true,
            text: reference::readme_options(),
        },
        // The lead places these markers where the README should list algorithms.
        Region {
            file: "README.md",
            name: "algorithms",
            required: false,
            text: reference::readme_algorithms(),
        },
        Region {
            file: "npm/index.d.ts",
            name: "error-codes",
            required: true,
            text: reference::dts_error_codes(),
        },
        Region {
            file: "npm/index.d.ts",
            name: "algorithms",
            required: true,
            text: reference::dts_algorithms(),
        },
    ]
}

/// `(start, end)` marker prefixes for a file, by its comment syntax.
fn markers(file: &str, name: &str) -> (String, String) {
    if file.ends_with(".md") {
        (
            format!("<!-- generated:{name} "),
            format!("<!-- /generated:{name} -->"),
        )
    } else {
        (
            format!("// generated:{name} "),
            format!("// /generated:{name}"),
        )
    }
}

/// The file with the region's text in place, or `None` when its markers are absent.
fn with_region(contents: &str, region: &Region) -> Option<String> {
    let (start, end) = markers(region.file, region.name);
    let begin = contents
        .match_indices(&start)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || contents[..i].ends_with('\n'))?;
    let body_start = begin + contents[begin..].find('\n')? + 1;
    let body_end = body_start + contents[body_start..].find(&end)?;
    assert!(
        contents[..body_end].ends_with('\n') || body_end == body_start,
        "{}: `{end}` must start a line",
        region.file
    );
    Some(format!(
        "{}{}{}",
        &contents[..body_start],
        region.text,
        &contents[body_end..]
    ))
}

/// Whole generated files.
fn files() -> Vec<(&'static str, String)> {
    vec![("www/reference.js", reference::www_reference_js())]
}

#[test]
fn generated_copies_match_the_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("JWT_EDGE_BLESS").is_some_and(|v| v == "1");
    let mut drift = Vec::new();
    let mut by_file: Vec<(&str, String, String)> = Vec::new();
    for region in regions() {
        let path = root.join(region.file);
        let index = match by_file.iter().position(|(f, _, _)| *f == region.file) {
            Some(i) => i,
            None => {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", region.file));
                by_file.push((region.file, text.clone(), text));
                by_file.len() - 1
            }
        };
        let current = &by_file[index].2;
        match with_region(current, &region) {
            Some(updated) => by_file[index].2 = updated,
            None if region.required => drift.push(format!(
                "{}: no `{}` … `{}` markers",
                region.file,
                markers(region.file, region.name).0.trim(),
                markers(region.file, region.name).1
            )),
            None => {}
        }
    }
    for (file, before, after) in &by_file {
        if before != after {
            if bless {
                std::fs::write(root.join(file), after).unwrap();
            } else {
                drift.push(format!("{file}: a generated region differs from the core"));
            }
        }
    }
    for (file, text) in files() {
        let path = root.join(file);
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        if before != text {
            if bless {
                std::fs::write(&path, &text).unwrap();
            } else {
                drift.push(format!("{file} differs from the core"));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "{}\n(run `JWT_EDGE_BLESS=1 cargo test --test generated` and commit the result)",
        drift.join("\n")
    );
}

#[test]
fn the_tables_hold_every_code_and_algorithm() {
    let codes = reference::error_codes();
    assert_eq!(codes.len(), jwt_edge::Error::ALL_KINDS.len());
    let table = reference::readme_error_codes();
    for row in &codes {
        assert!(table.contains(&format!("`{}`", row.code)), "{}", row.code);
        assert!(reference::dts_error_codes().contains(&format!("'{}'", row.code)));
        assert!(reference::www_reference_js().contains(&format!("code: '{}'", row.code)));
    }
    // Spot checks against the one HTTP mapping (RFC 6750 §3).
    let row = |code: &str| *codes.iter().find(|r| r.code == code).unwrap();
    assert_eq!(
        (row("token_missing").status, row("token_missing").error),
        (401, None)
    );
    assert_eq!(row("audience_mismatch").error, Some("insufficient_scope"));
    assert_eq!(row("jwks_unavailable").status, 503);
    assert_eq!(row("config_invalid").status, 500);
    assert_eq!(
        reference::algorithms().len(),
        jwt_edge::Algorithm::ALL.len()
    );
    for name in reference::algorithms() {
        assert!(reference::dts_algorithms().contains(&format!("'{name}'")));
        assert!(reference::readme_algorithms().contains(&format!("`{name}`")));
    }
}

#[test]
fn markers_are_found_only_at_line_starts() {
    let region = Region {
        file: "x.d.ts",
        name: "n",
        required: true,
        text: "new\n".into(),
    };
    let file = "a // generated:n (x)\n// generated:n (x)\nold\n// /generated:n\nz\n";
    assert_eq!(
        with_region(file, &region).unwrap(),
        "a // generated:n (x)\n// generated:n (x)\nnew\n// /generated:n\nz\n"
    );
    assert_eq!(with_region("no markers\n", &region), None);
}

/// `VerifyOptions` in `npm/index.d.ts` declares exactly the npm names of the core's
/// option table (plus `now`, a call argument, and `scopes` and `claims`, what a route
/// requires — per route in the worker — not policy options).
#[test]
fn index_d_ts_verify_options_are_the_tables_npm_names() {
    let dts =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/npm/index.d.ts")).unwrap();
    let start = dts
        .find("export interface VerifyOptions {")
        .expect("VerifyOptions");
    let body = &dts[start..start + dts[start..].find("\n}").expect("end of VerifyOptions")];
    let mut declared: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.split_once("?:").map(|(name, _)| name))
        .filter(|name| !name.starts_with(' ') && !["now", "scopes", "claims"].contains(name))
        .collect();
    let mut table: Vec<&str> = reference::options().iter().map(|row| row.npm).collect();
    declared.sort_unstable();
    table.sort_unstable();
    assert_eq!(declared, table);
}
