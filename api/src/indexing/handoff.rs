//! Search documents handed from an import to the indexer.
//!
//! A bulk import builds every published version in memory before writing it. Reading those
//! thousands of clauses back from the database, only to build the same documents again, cost
//! the indexer as much time as the search backend spent indexing them. So the import offers
//! each document here, under its clause and version, just before its transaction commits, and
//! the indexer takes it instead of reading the clause.
//!
//! The indexer takes a document only for a clause whose single event in the batch is the
//! upsert of exactly that version, and which no other event of the batch touches (a tender
//! result changes a clause's evidence). Any other clause, and any clause whose document was
//! never offered, was evicted, or was withdrawn because the import failed to commit, is read
//! from the database as before. A hand-off therefore saves work and never changes what the
//! index ends up holding. Documents of events another replica applies are never taken here;
//! the bounds below let them age out.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, MutexGuard, PoisonError},
};

use search::CatalogueDocument;
use uuid::Uuid;

/// Most documents waiting; the oldest go first.
const MAX_DOCUMENTS: usize = 20_000;
/// Most text waiting, counted as the documents' string lengths plus [`DOCUMENT_OVERHEAD`].
const MAX_BYTES: usize = 32 << 20;
/// What a document costs beyond its strings (the struct, its vectors, two map entries).
const DOCUMENT_OVERHEAD: usize = 512;

#[derive(Default)]
pub struct Handoff {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waiting: HashMap<Uuid, Offered>,
    /// Waiting clause ids by the order they were offered in (oldest first).
    order: BTreeMap<u64, Uuid>,
    next: u64,
    bytes: usize,
}

struct Offered {
    version: i32,
    /// Its key in [`State::order`].
    position: u64,
    bytes: usize,
    document: CatalogueDocument,
}

impl State {
    fn remove(&mut self, id: &Uuid) -> Option<Offered> {
        let offered = self.waiting.remove(id)?;
        self.order.remove(&offered.position);
        self.bytes -= offered.bytes;
        Some(offered)
    }

    fn over_bounds(&self) -> bool {
        self.waiting.len() > MAX_DOCUMENTS || self.bytes > MAX_BYTES
    }
}

impl Handoff {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every step, so a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers the documents of clause versions about to be published, keyed by clause id
    /// (each document carries its version). A clause offered again replaces its earlier offer.
    pub fn offer(&self, documents: impl IntoIterator<Item = (Uuid, CatalogueDocument)>) {
        let mut state = self.state();
        for (id, document) in documents {
            state.remove(&id);
            let position = state.next;
            state.next += 1;
            let bytes = size_of(&document);
            state.order.insert(position, id);
            state.bytes += bytes;
            state.waiting.insert(
                id,
                Offered {
                    version: document.version,
                    position,
                    bytes,
                    document,
                },
            );
            while state.over_bounds() {
                let Some(oldest) = state.order.first_key_value().map(|(_, id)| *id) else {
                    break;
                };
                state.remove(&oldest);
            }
        }
    }

    /// The document offered for this clause at this version, if it is still waiting. A
    /// document offered for another version stays waiting.
    pub fn take(&self, id: Uuid, version: i32) -> Option<CatalogueDocument> {
        let mut state = self.state();
        if state.waiting.get(&id)?.version != version {
            return None;
        }
        state.remove(&id).map(|offered| offered.document)
    }

    /// Takes back offers whose versions were not published after all (the import's commit
    /// failed).
    pub fn withdraw(&self, ids: impl IntoIterator<Item = Uuid>) {
        let mut state = self.state();
        for id in ids {
            state.remove(&id);
        }
    }

    /// How many documents are waiting.
    pub fn len(&self) -> usize {
        self.state().waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn size_of(document: &CatalogueDocument) -> usize {
    let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let list = |v: &Vec<String>| v.iter().map(String::len).sum::<usize>();
    DOCUMENT_OVERHEAD
        + document.id.len()
        + document.organization_id.len()
        + document.organization_name.len()
        + document.title.len()
        + document.text.len()
        + optional(&document.purpose)
        + optional(&document.scoring_rule)
        + optional(&document.verification)
        + optional(&document.follow_up)
        + list(&document.environmental_impacts)
        + list(&document.social_objectives)
        + list(&document.focus)
        + list(&document.cpv_codes)
        + list(&document.cpv_prefixes)
        + list(&document.labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(version: i32, text: &str) -> CatalogueDocument {
        CatalogueDocument {
            version,
            title: "Take-back".to_owned(),
            text: text.to_owned(),
            ..CatalogueDocument::default()
        }
    }

    #[test]
    fn a_document_is_taken_once_and_only_at_its_version() {
        let handoff = Handoff::default();
        let id = Uuid::now_v7();
        handoff.offer([(id, document(1, "v1"))]);
        assert_eq!(
            handoff.take(id, 2),
            None,
            "another version must not be taken"
        );
        assert_eq!(handoff.take(id, 1).map(|d| d.text), Some("v1".to_owned()));
        assert_eq!(handoff.take(id, 1), None, "a document is taken once");
        assert!(handoff.is_empty());
    }

    #[test]
    fn a_new_offer_replaces_the_old_and_withdrawn_offers_are_gone() {
        let handoff = Handoff::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        handoff.offer([(a, document(1, "first")), (b, document(1, "b"))]);
        handoff.offer([(a, document(2, "second"))]);
        assert_eq!(handoff.len(), 2);
        assert_eq!(handoff.take(a, 1), None);
        assert_eq!(
            handoff.take(a, 2).map(|d| d.text),
            Some("second".to_owned())
        );
        handoff.withdraw([b]);
        assert_eq!(handoff.take(b, 1), None);
        assert!(handoff.is_empty());
        assert_eq!(
            handoff.state().bytes,
            0,
            "every byte counted in is counted out"
        );
        assert!(handoff.state().order.is_empty());
    }

    #[test]
    fn the_oldest_offers_go_first_past_the_bounds() {
        let handoff = Handoff::default();
        let ids: Vec<Uuid> = (0..MAX_DOCUMENTS + 3).map(|_| Uuid::now_v7()).collect();
        handoff.offer(ids.iter().map(|id| (*id, document(1, "short"))));
        assert_eq!(handoff.len(), MAX_DOCUMENTS);
        for old in &ids[..3] {
            assert_eq!(handoff.take(*old, 1), None, "the oldest are evicted");
        }
        assert!(handoff.take(ids[3], 1).is_some());
        assert!(handoff.take(ids[MAX_DOCUMENTS + 2], 1).is_some());

        // Large texts hit the byte bound long before the count.
        let big = "x".repeat(1 << 20);
        let handoff = Handoff::default();
        let ids: Vec<Uuid> = (0..40).map(|_| Uuid::now_v7()).collect();
        handoff.offer(ids.iter().map(|id| (*id, document(1, &big))));
        assert!(handoff.state().bytes <= MAX_BYTES);
        assert!(
            handoff.len() < 40 && handoff.len() >= 30,
            "{}",
            handoff.len()
        );
        assert!(handoff.take(ids[39], 1).is_some(), "the newest is kept");
        assert_eq!(handoff.take(ids[0], 1), None, "the oldest is evicted");
    }
}
