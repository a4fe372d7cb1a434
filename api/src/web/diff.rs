//! Word-level differences between two texts (longest common subsequence over words and the
//! spaces between them), for comparing clause versions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Same,
    Added,
    Removed,
}

/// Words and the runs of whitespace between them, in order.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if in_space.is_some_and(|s| s != space) {
            out.push(&text[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Beyond this many token pairs the texts are shown as replaced rather than compared (the
/// table would take more memory than a page should).
const MAX_CELLS: usize = 4_000_000;

/// The changes that turn `old` into `new`, adjacent pieces of one kind merged.
pub fn words<'a>(old: &'a str, new: &'a str) -> Vec<(Change, String)> {
    let (a, b) = (tokens(old), tokens(new));
    let mut out: Vec<(Change, String)> = Vec::new();
    let mut push = |change: Change, text: &str| match out.last_mut() {
        Some((last, piece)) if *last == change => piece.push_str(text),
        _ => out.push((change, text.to_owned())),
    };
    if (a.len() + 1).saturating_mul(b.len() + 1) > MAX_CELLS {
        push(Change::Removed, old);
        push(Change::Added, new);
        return out;
    }
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let width = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            push(Change::Same, a[i]);
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
            push(Change::Removed, a[i]);
            i += 1;
        } else {
            push(Change::Added, b[j]);
            j += 1;
        }
    }
    for token in &a[i..] {
        push(Change::Removed, token);
    }
    for token in &b[j..] {
        push(Change::Added, token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_changed_words_are_marked() {
        let diff = words("within 3 years of delivery", "within 5 years of delivery");
        assert_eq!(
            diff,
            [
                (Change::Same, "within ".to_owned()),
                (Change::Removed, "3".to_owned()),
                (Change::Added, "5".to_owned()),
                (Change::Same, " years of delivery".to_owned()),
            ]
        );
        assert_eq!(words("same", "same"), [(Change::Same, "same".to_owned())]);
        assert_eq!(
            words("", "new text"),
            [(Change::Added, "new text".to_owned())]
        );
    }
}
