//! Interface name patterns of `paths.ignore_interfaces`: `*` matches any run of characters,
//! `?` any one character, everything else itself (as a shell glob without classes).

/// Whether `name` matches any of `patterns`.
pub fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|pattern| matches(pattern, name))
}

/// Whether `name` matches `pattern`. Iterative with one backtrack point, so a pattern of many
/// stars costs linear time, not exponential.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                // Let the last star swallow one more character and try again from there.
                Some((star_p, star_n)) => {
                    star = Some((star_p, star_n + 1));
                    p = star_p + 1;
                    n = star_n + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_a_shell_does() {
        let cases = [
            ("docker*", "docker0", true),
            ("docker*", "docker", true),
            ("docker*", "dockerd0", true),
            ("docker*", "xdocker0", false),
            ("veth?", "veth1", true),
            ("veth?", "veth12", false),
            ("*", "", true),
            ("", "", true),
            ("", "eth0", false),
            ("eth0", "eth0", true),
            ("eth0", "eth1", false),
            ("*br*", "virbr0", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("**a", "a", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                matches(pattern, name),
                expected,
                "{pattern:?} against {name:?}"
            );
        }
    }

    #[test]
    fn any_of_several() {
        let patterns = vec!["docker*".to_owned(), "veth*".to_owned()];
        assert!(matches_any(&patterns, "veth9"));
        assert!(!matches_any(&patterns, "eth0"));
        assert!(!matches_any(&[], "eth0"));
    }
}
