//! "Did you mean" hints, by edit distance.

/// The candidate closest to `given`, if it is close enough to be a plausible typo.
///
/// Close enough means at most one edit per three characters of the candidate (and always at
/// least one), so `expires` finds `expire` but `colour` does not find `cookie_name`.
pub fn did_you_mean<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let given_lower = given.to_ascii_lowercase();
    candidates
        .iter()
        .map(|candidate| (edit_distance(&given_lower, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The hint for an error message: ``, did you mean `x`?`` or nothing.
pub fn hint(given: &str, candidates: &[&str]) -> String {
    match did_you_mean(given, candidates) {
        Some(candidate) => format!(", did you mean `{candidate}`?"),
        None => String::new(),
    }
}

/// Levenshtein distance over chars (insertions, deletions and substitutions cost one).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the dynamic-programming table is enough: row[j] is the distance between the
    // prefix of `a` seen so far and b[..j].
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("expires", "expire"), 1);
        assert_eq!(edit_distance("flaw", "lawn"), 2);
    }

    #[test]
    fn suggests_close_names() {
        let keys = [
            "expire",
            "max_lifetime",
            "cookie_name",
            "secure",
            "same_site",
        ];
        assert_eq!(did_you_mean("expires", &keys), Some("expire"));
        assert_eq!(did_you_mean("cookiename", &keys), Some("cookie_name"));
        assert_eq!(did_you_mean("samesite", &keys), Some("same_site"));
        assert_eq!(did_you_mean("max_lifetim", &keys), Some("max_lifetime"));
        assert_eq!(did_you_mean("colour", &keys), None);
        assert_eq!(did_you_mean("x", &keys), None);
    }

    #[test]
    fn suggests_values_ignoring_case() {
        let stores = ["cookie", "memory", "files", "redis"];
        assert_eq!(did_you_mean("reds", &stores), Some("redis"));
        assert_eq!(did_you_mean("Redis", &stores), Some("redis"));
        assert_eq!(did_you_mean("file", &stores), Some("files"));
        assert_eq!(did_you_mean("postgres", &stores), None);
    }

    #[test]
    fn hint_sentence() {
        assert_eq!(hint("lax ", &["lax", "strict"]), ", did you mean `lax`?");
        assert_eq!(hint("zzz", &["lax", "strict"]), "");
    }
}
