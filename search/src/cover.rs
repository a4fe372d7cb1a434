//! [`CoverQuery`]: a match of its query scores a fixed bonus on top of the query's own score.
//!
//! The embedded index wraps each query word (with its forms, synonyms and parts) in one, so a
//! clause matching more of the query's words ranks above one matching fewer, whatever the
//! words' frequencies (Meilisearch's `words` ranking rule); the relevance score orders clauses
//! that match the same number of words.

use std::fmt;

use tantivy::{
    DocId, DocSet, Score, SegmentReader, Term,
    query::{EnableScoring, Explanation, Query, Scorer, Weight},
};

pub struct CoverQuery {
    query: Box<dyn Query>,
    bonus: Score,
}

impl CoverQuery {
    pub fn new(query: Box<dyn Query>, bonus: Score) -> Self {
        Self { query, bonus }
    }
}

impl Clone for CoverQuery {
    fn clone(&self) -> Self {
        Self {
            query: self.query.box_clone(),
            bonus: self.bonus,
        }
    }
}

impl fmt::Debug for CoverQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cover(query={:?}, bonus={})", self.query, self.bonus)
    }
}

impl Query for CoverQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weight = self.query.weight(enable_scoring)?;
        Ok(if enable_scoring.is_scoring_enabled() {
            Box::new(CoverWeight {
                weight,
                bonus: self.bonus,
            })
        } else {
            weight
        })
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.query.query_terms(visitor);
    }
}

struct CoverWeight {
    weight: Box<dyn Weight>,
    bonus: Score,
}

impl Weight for CoverWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(CoverScorer {
            scorer: self.weight.scorer(reader, boost)?,
            bonus: self.bonus * boost,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let inner = self.weight.explain(reader, doc)?;
        let mut explanation = Explanation::new_with_string(
            format!("{} + ...", self.bonus),
            inner.value() + self.bonus,
        );
        explanation.add_detail(inner);
        Ok(explanation)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.weight.count(reader)
    }
}

struct CoverScorer {
    scorer: Box<dyn Scorer>,
    bonus: Score,
}

impl DocSet for CoverScorer {
    fn advance(&mut self) -> DocId {
        self.scorer.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.scorer.seek(target)
    }

    fn doc(&self) -> DocId {
        self.scorer.doc()
    }

    fn size_hint(&self) -> u32 {
        self.scorer.size_hint()
    }

    fn cost(&self) -> u64 {
        self.scorer.cost()
    }
}

impl Scorer for CoverScorer {
    fn score(&mut self) -> Score {
        self.scorer.score() + self.bonus
    }
}

#[cfg(test)]
mod tests {
    use tantivy::{
        Index, IndexWriter, TantivyDocument, Term,
        collector::TopDocs,
        query::{BooleanQuery, Occur, TermQuery},
        schema::{IndexRecordOption, STORED, Schema, TEXT, Value},
    };

    use super::*;

    #[test]
    fn more_words_matched_rank_first() -> tantivy::Result<()> {
        let mut builder = Schema::builder();
        let text = builder.add_text_field("text", TEXT | STORED);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer(15_000_000)?;
        // "rare" alone scores high on relevance; "common rare" has both words.
        writer.add_document(tantivy::doc!(text => "rare rare rare"))?;
        writer.add_document(tantivy::doc!(text => "common rare common text padding words"))?;
        for _ in 0..20 {
            writer.add_document(tantivy::doc!(text => "common"))?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let word = |w: &str, bonus: Score| -> (Occur, Box<dyn Query>) {
            let term = TermQuery::new(Term::from_field_text(text, w), IndexRecordOption::WithFreqs);
            (
                Occur::Should,
                Box::new(CoverQuery::new(Box::new(term), bonus)),
            )
        };
        let first = |bonus: Score| -> tantivy::Result<String> {
            let query = BooleanQuery::new(vec![word("common", bonus), word("rare", bonus)]);
            let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
            let doc: TantivyDocument = searcher.doc(top[0].1)?;
            Ok(doc
                .get_first(text)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned())
        };
        assert_eq!(first(0.0)?, "rare rare rare");
        assert_eq!(first(100.0)?, "common rare common text padding words");
        Ok(())
    }
}
