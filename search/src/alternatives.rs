//! [`Alternatives`]: what one query word matches in the embedded index, gathered in one flat
//! list.
//!
//! A word matches its forms in each field, its stems, its synonyms' terms, its narrower
//! concepts' terms at half weight and so on. Built as nested boolean queries, each of them a
//! union, tantivy walks a union of unions of unions for every matching clause. Should clauses
//! sum their scores whatever the nesting, so the alternatives are kept as one list instead:
//! each term once, with the sum of the weights it was reached with (a term reached twice
//! scores as one term of the summed weight, which is what the nested queries added up to),
//! and the other queries (phrases, typo automata, a compound's parts) beside them.

use std::collections::{HashMap, hash_map::Entry};

use tantivy::{
    Score, Term,
    query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery},
    schema::IndexRecordOption,
};

#[derive(Default)]
pub struct Alternatives {
    /// Each term with how it is read and its summed weight, in the order first reached.
    terms: Vec<(Term, IndexRecordOption, Score)>,
    /// Where each term is in `terms`.
    positions: HashMap<(Term, IndexRecordOption), usize>,
    other: Vec<(Box<dyn Query>, Score)>,
}

impl Alternatives {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.other.is_empty()
    }

    /// A term scored by relevance (its frequency counts).
    pub fn term(&mut self, term: Term, weight: Score) {
        self.add_term(term, IndexRecordOption::WithFreqs, weight);
    }

    /// A term whose match alone counts (a raw field, one token per value).
    pub fn presence(&mut self, term: Term, weight: Score) {
        self.add_term(term, IndexRecordOption::Basic, weight);
    }

    fn add_term(&mut self, term: Term, option: IndexRecordOption, weight: Score) {
        match self.positions.entry((term, option)) {
            Entry::Occupied(at) => self.terms[*at.get()].2 += weight,
            Entry::Vacant(slot) => {
                self.terms.push((slot.key().0.clone(), option, weight));
                slot.insert(self.terms.len() - 1);
            }
        }
    }

    /// Any other query (a phrase, a typo automaton, a compound's parts together).
    pub fn query(&mut self, query: Box<dyn Query>, weight: Score) {
        self.other.push((query, weight));
    }

    /// All of `other`'s alternatives, their weights multiplied by `weight`.
    pub fn extend(&mut self, other: &Alternatives, weight: Score) {
        for (term, option, w) in &other.terms {
            self.add_term(term.clone(), *option, w * weight);
        }
        for (query, w) in &other.other {
            self.other.push((query.box_clone(), w * weight));
        }
    }

    /// One boolean query matching any of the alternatives, scoring the weighted sum of those
    /// matched.
    pub fn into_query(self) -> BooleanQuery {
        let weighted = |query: Box<dyn Query>, weight: Score| -> (Occur, Box<dyn Query>) {
            if weight == 1.0 {
                (Occur::Should, query)
            } else {
                (Occur::Should, Box::new(BoostQuery::new(query, weight)))
            }
        };
        let terms = self
            .terms
            .into_iter()
            .map(|(term, option, weight)| weighted(Box::new(TermQuery::new(term, option)), weight));
        let other = self
            .other
            .into_iter()
            .map(|(query, weight)| weighted(query, weight));
        BooleanQuery::new(terms.chain(other).collect())
    }
}

#[cfg(test)]
mod tests {
    use tantivy::{
        Index, IndexWriter, Searcher,
        collector::TopDocs,
        query::PhraseQuery,
        schema::{Field, Schema, TEXT},
    };

    use super::*;

    fn index() -> tantivy::Result<(Searcher, Field)> {
        let mut builder = Schema::builder();
        let text = builder.add_text_field("text", TEXT);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer(15_000_000)?;
        for body in [
            "laptop computer",
            "laptop laptop",
            "desktop computer",
            "tablet",
            "printer",
        ] {
            writer.add_document(tantivy::doc!(text => body))?;
        }
        writer.commit()?;
        Ok((index.reader()?.searcher(), text))
    }

    fn scores(searcher: &Searcher, query: &dyn Query) -> tantivy::Result<Vec<(u32, Score)>> {
        let mut top: Vec<(u32, Score)> = searcher
            .search(query, &TopDocs::with_limit(10).order_by_score())?
            .into_iter()
            .map(|(score, address)| (address.doc_id, score))
            .collect();
        top.sort_by_key(|(doc, _)| *doc);
        Ok(top)
    }

    #[test]
    fn flat_alternatives_score_as_the_nested_queries() -> tantivy::Result<()> {
        let (searcher, text) = index()?;
        let term = |w: &str| Term::from_field_text(text, w);
        let term_query = |w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(term(w), IndexRecordOption::WithFreqs))
        };
        let should = |q: Box<dyn Query>| (Occur::Should, q);
        let phrase = || PhraseQuery::new(vec![term("desktop"), term("computer")]);
        // laptop, then its synonyms (computer, and laptop again) and a narrower concept
        // (tablet) at half weight, and a phrase at a quarter.
        let nested = BooleanQuery::new(vec![
            should(term_query("laptop")),
            should(Box::new(BoostQuery::new(term_query("tablet"), 0.5))),
            should(Box::new(BooleanQuery::new(vec![
                should(term_query("computer")),
                should(term_query("laptop")),
                should(Box::new(BoostQuery::new(
                    Box::new(BooleanQuery::new(vec![should(term_query("tablet"))])),
                    0.5,
                ))),
            ]))),
            should(Box::new(BoostQuery::new(Box::new(phrase()), 0.25))),
        ]);
        let mut synonyms = Alternatives::default();
        synonyms.term(term("computer"), 1.0);
        synonyms.term(term("laptop"), 1.0);
        let mut narrower = Alternatives::default();
        narrower.term(term("tablet"), 1.0);
        synonyms.extend(&narrower, 0.5);
        let mut flat = Alternatives::default();
        flat.term(term("laptop"), 1.0);
        flat.term(term("tablet"), 0.5);
        flat.extend(&synonyms, 1.0);
        flat.query(Box::new(phrase()), 0.25);
        // laptop once (weight 2), tablet reached at a half twice (weight 1), computer, and
        // the phrase beside them.
        assert_eq!(flat.terms.len(), 3);
        assert_eq!(flat.terms[0].2, 2.0);
        assert_eq!(flat.terms[1].2, 1.0);
        let flat = flat.into_query();
        let (expected, got) = (scores(&searcher, &nested)?, scores(&searcher, &flat)?);
        assert_eq!(got.len(), 4, "laptop ×2, desktop computer, tablet: {got:?}");
        assert_eq!(expected.len(), got.len());
        for ((doc_a, a), (doc_b, b)) in expected.iter().zip(&got) {
            assert_eq!(doc_a, doc_b);
            assert!((a - b).abs() < 1e-4, "doc {doc_a}: nested {a}, flat {b}");
        }
        Ok(())
    }

    #[test]
    fn presence_and_relevance_terms_are_kept_apart() -> tantivy::Result<()> {
        let (searcher, text) = index()?;
        let term = Term::from_field_text(text, "laptop");
        let score = |alternatives: Alternatives| -> tantivy::Result<Vec<(u32, Score)>> {
            scores(&searcher, &alternatives.into_query())
        };
        // Read with its frequency, `laptop laptop` (doc 1) outscores `laptop computer` (doc 0);
        // a presence alone scores both alike.
        let mut relevance = Alternatives::default();
        relevance.term(term.clone(), 1.0);
        let relevance = score(relevance)?;
        assert!(relevance[1].1 > relevance[0].1, "{relevance:?}");
        let mut presence = Alternatives::default();
        presence.presence(term.clone(), 1.0);
        let presence = score(presence)?;
        assert!((presence[1].1 - presence[0].1).abs() < 1e-6, "{presence:?}");
        // Both: two terms, each scored its own way, not one of summed weight.
        let mut both = Alternatives::default();
        both.term(term.clone(), 1.0);
        both.presence(term, 1.0);
        assert_eq!(both.terms.len(), 2);
        let both = score(both)?;
        for ((doc, sum), ((_, r), (_, p))) in both.iter().zip(relevance.iter().zip(&presence)) {
            assert!(
                (sum - (r + p)).abs() < 1e-4,
                "doc {doc}: {sum} against {r} + {p}"
            );
        }
        assert!(Alternatives::default().is_empty());
        Ok(())
    }
}
