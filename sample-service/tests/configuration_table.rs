//! The README's configuration table and the service's own table of variables
//! (`config::variables`, which `--help` prints) say the same: the same variables, in the same
//! order, with the same defaults.

use sample_service::config::variables::{ReadBy, VARIABLES};

/// The rows of the README's table under "### Configuration": (variable, default).
fn readme_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README");
    let section = readme
        .split("### Configuration")
        .nth(1)
        .expect("a Configuration section in the README");
    section
        .lines()
        .skip_while(|line| !line.starts_with("| variable |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let unquote = |cell: &str| cell.trim_matches('`').to_owned();
            (unquote(cells[1]), unquote(cells[2]))
        })
        .collect()
}

#[test]
fn the_readme_lists_the_variables_the_service_reads_with_their_defaults() {
    let readme = readme_rows();
    let code: Vec<(String, String)> = VARIABLES
        .iter()
        .map(|variable| (variable.name.to_owned(), variable.default.to_owned()))
        .collect();
    assert_eq!(
        readme, code,
        "README.md's configuration table and src/config/variables.rs differ"
    );
}

#[test]
fn the_readme_says_which_variables_the_sdk_reads_itself() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for variable in VARIABLES
        .iter()
        .filter(|variable| variable.read_by == ReadBy::CheckedThenSdk)
    {
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", variable.name)))
            .unwrap_or_else(|| panic!("no README row for {}", variable.name));
        assert!(row.contains("read by the SDK"), "{row}");
    }
}
