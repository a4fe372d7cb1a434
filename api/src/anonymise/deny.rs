//! An organisation's deny-list: its own names and terms, matched case-insensitively on whole
//! words (letters and digits are word characters), without regexes.
//!
//! Text and terms are cut into the same word tokens; a term matches where its words follow
//! each other with the same separators (any run of whitespace counts as one space). Terms are
//! indexed by their first word, so a text is matched in one pass whatever the list's length.

use std::collections::HashMap;

use super::{FindingKind, Span};

#[derive(Debug, Clone, Default)]
pub(super) struct DenyList {
    terms: Vec<Term>,
    /// Term indices by the term's first word.
    by_first: HashMap<String, Vec<usize>>,
    /// The first bytes of those first words: a cheap test before hashing.
    first_bytes: Vec<bool>,
}

#[derive(Debug, Clone)]
struct Term {
    /// Lowercased words.
    words: Vec<String>,
    /// What stands between consecutive words, whitespace collapsed.
    separators: Vec<String>,
}

/// Maximal runs of letters and digits, as byte ranges.
fn words(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i < s.len() {
        let byte = s.as_bytes()[i];
        let (is_word, len) = if byte.is_ascii() {
            (byte.is_ascii_alphanumeric(), 1)
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            (c.is_alphanumeric(), c.len_utf8())
        };
        match (is_word, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                out.push((from, i));
                start = None;
            }
            _ => {}
        }
        i += len;
    }
    if let Some(from) = start {
        out.push((from, s.len()));
    }
    out
}

fn lowercase_into(buffer: &mut String, word: &str) {
    buffer.clear();
    if word.is_ascii() {
        buffer.push_str(word);
        buffer.make_ascii_lowercase();
    } else {
        buffer.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// A separator with every run of whitespace replaced by one space.
fn collapse(separator: &str) -> String {
    let mut out = String::with_capacity(separator.len());
    let mut space = false;
    for c in separator.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

impl DenyList {
    pub(super) fn new(terms: &[String]) -> Self {
        let mut list = Self::default();
        for term in terms {
            let term = term.trim();
            let tokens = words(term);
            if term.chars().count() < 2 || tokens.is_empty() {
                continue;
            }
            let words: Vec<String> = tokens
                .iter()
                .map(|&(s, e)| term[s..e].chars().flat_map(char::to_lowercase).collect())
                .collect();
            let separators = tokens
                .windows(2)
                .map(|pair| collapse(&term[pair[0].1..pair[1].0]))
                .collect();
            list.first_bytes.resize(256, false);
            list.first_bytes[usize::from(words[0].as_bytes()[0])] = true;
            list.by_first
                .entry(words[0].clone())
                .or_default()
                .push(list.terms.len());
            list.terms.push(Term { words, separators });
        }
        list
    }

    /// Proposes the longest term matching at each word of `text`.
    pub(super) fn find(&self, text: &str, out: &mut Vec<Span>) {
        if self.terms.is_empty() {
            return;
        }
        let tokens = words(text);
        let mut first = String::new();
        for (i, &(start, end)) in tokens.iter().enumerate() {
            let initial = text.as_bytes()[start];
            if initial.is_ascii() && !self.first_bytes[usize::from(initial.to_ascii_lowercase())] {
                continue;
            }
            lowercase_into(&mut first, &text[start..end]);
            let Some(candidates) = self.by_first.get(&first) else {
                continue;
            };
            let longest = candidates
                .iter()
                .map(|&t| &self.terms[t])
                .filter(|term| {
                    let n = term.words.len();
                    i + n <= tokens.len()
                        && (1..n).all(|j| {
                            let (previous, (s, e)) = (tokens[i + j - 1], tokens[i + j]);
                            same_separator(&text[previous.1..s], &term.separators[j - 1])
                                && text[s..e]
                                    .chars()
                                    .flat_map(char::to_lowercase)
                                    .eq(term.words[j].chars())
                        })
                })
                .map(|term| term.words.len())
                .max();
            if let Some(n) = longest {
                out.push(Span::new(
                    FindingKind::DenyListed,
                    start,
                    tokens[i + n - 1].1,
                ));
            }
        }
    }
}

/// Whether a separator in the text equals a term's collapsed separator.
fn same_separator(text: &str, collapsed: &str) -> bool {
    let mut text = text.chars().peekable();
    let mut term = collapsed.chars();
    loop {
        match (text.next(), term.next()) {
            (None, None) => return true,
            (Some(a), Some(' ')) if a.is_whitespace() => {
                while text.next_if(|c| c.is_whitespace()).is_some() {}
            }
            (Some(a), Some(b)) if a == b && !a.is_whitespace() => {}
            _ => return false,
        }
    }
}
