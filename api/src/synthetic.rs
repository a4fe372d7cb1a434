//! A synthetic catalogue for benchmarks: `commons seed --synthetic N [--seed S]`.
//!
//! Deterministic (the same `N` and seed give the same rows, ids included), in the five
//! catalogue languages, with words drawn from a per-language procurement vocabulary
//! (`data/synthetic-vocabulary.json`) with Zipf-like frequencies, and every facet field filled.
//! Rows are written in bulk, 500 records to a transaction, each with the change event a publish
//! would have written, so indexing and mirroring see exactly what they would in production.

use std::{collections::HashMap, sync::OnceLock};

use anyhow::{Context, bail};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use entity::{
    AmbitionLevel, Applicability, ChangeOperation, ClauseKind, ClauseOutcome, Country,
    CriteriaOrigin, EntityType, EnvironmentalImpact, FollowUpResult, Language, OrganizationKind,
    ProcedureType, ProductGroup, PublicationStatus, SocialObjective, ValueBand, change_event,
    clause, clause_version, codes, organization, tender_result, tender_result_clause,
};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Iterable, PaginatorTrait,
    TransactionTrait,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{feed::records::Record, service::cpv};

/// Records written per transaction (SQLite allows 32,766 bound values a statement; a
/// clause's two version rows take 46).
const BATCH: usize = 500;

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn uuid(&mut self) -> Uuid {
        let bytes = (u128::from(self.next_u64()) << 64 | u128::from(self.next_u64())).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

#[derive(Deserialize)]
struct RawLanguage {
    openers: Vec<String>,
    words: Vec<String>,
}

/// One language's words with their cumulative Zipf weights (rank r weighs 1/r).
pub struct Lexicon {
    pub openers: Vec<String>,
    pub words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Lexicon {
    /// A word, frequent ones far more often than rare ones.
    pub fn word(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = (rng.next_u64() as f64 / u64::MAX as f64) * total;
        let index = self.cumulative.partition_point(|c| *c < target);
        &self.words[index.min(self.words.len() - 1)]
    }
}

/// The five catalogue languages of the synthetic data.
pub const LANGUAGES: [Language; 5] = [
    Language::Sv,
    Language::Nb,
    Language::Da,
    Language::Fi,
    Language::En,
];

/// The vocabulary per language.
pub fn lexicon(language: Language) -> &'static Lexicon {
    static LEXICONS: OnceLock<HashMap<String, Lexicon>> = OnceLock::new();
    let lexicons = LEXICONS.get_or_init(|| {
        let raw: HashMap<String, RawLanguage> =
            serde_json::from_str(include_str!("../data/synthetic-vocabulary.json"))
                .unwrap_or_default();
        raw.into_iter()
            .map(|(code, raw)| {
                let mut sum = 0.0;
                let cumulative = (1..=raw.words.len())
                    .map(|rank| {
                        sum += 1.0 / rank as f64;
                        sum
                    })
                    .collect();
                let lexicon = Lexicon {
                    openers: raw.openers,
                    words: raw.words,
                    cumulative,
                };
                (code, lexicon)
            })
            .collect()
    });
    let code = sea_orm::ActiveEnum::to_value(&language);
    lexicons
        .get(&code)
        .or_else(|| lexicons.get("en"))
        .unwrap_or_else(|| unreachable!("the vocabulary file ships with the binary"))
}

fn words(rng: &mut Rng, lexicon: &Lexicon, count: usize) -> String {
    (0..count)
        .map(|_| lexicon.word(rng))
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// CPV bases of the product groups the catalogue is about; check digits come from the list.
const CPV_BASES: [&str; 14] = [
    "30213100", "30213300", "30231000", "32250000", "30232110", "48000000", "72000000", "30121100",
    "32420000", "50312000", "90500000", "39130000", "30237200", "48820000",
];

fn cpv_code(rng: &mut Rng) -> String {
    let base = rng.pick(&CPV_BASES);
    cpv::lookup(base).map_or_else(|| format!("{base}-0"), |entry| entry.code.to_owned())
}

const LABELS: [&str; 6] = [
    "TCO Certified Generation 9",
    "TCO Certified Generation 10",
    "EU Ecolabel",
    "EPEAT Gold",
    "Blue Angel",
    "Nordic Swan",
];

fn some_of<T: Copy + PartialEq>(rng: &mut Rng, all: &[T], most: usize) -> Vec<T> {
    let mut out = Vec::new();
    for _ in 0..=rng.below(most) {
        let item = *rng.pick(all);
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// What `seed` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub organizations: usize,
    pub clauses: usize,
    pub tender_results: usize,
}

fn base_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

fn event(
    entity_type: EntityType,
    id: Uuid,
    version: Option<i32>,
    record: &Record,
) -> anyhow::Result<change_event::ActiveModel> {
    crate::service::change_row(
        entity_type,
        id,
        version,
        ChangeOperation::Upsert,
        Some(record),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

fn organizations(rng: &mut Rng, count: usize) -> Vec<organization::Model> {
    let countries = [
        Country::Se,
        Country::No,
        Country::Dk,
        Country::Fi,
        Country::Is,
    ];
    (0..count)
        .map(|i| organization::Model {
            id: rng.uuid(),
            slug: format!("synthetic-{i:04}"),
            name: format!("Synthetic municipality {i}"),
            kind: if i % 10 == 0 {
                OrganizationKind::Region
            } else {
                OrganizationKind::Municipality
            },
            country: countries[i % countries.len()],
            municipality_code: Some(format!("{:04}", 1000 + i)),
            // Zipf-like sizes: a few large, many small.
            population: Some((900_000 / (i as i64 + 1)).max(2_000)),
            created_at: base_time(),
            origin: None,
        })
        .collect()
}

fn clause_rows(
    rng: &mut Rng,
    i: usize,
    orgs: &[organization::Model],
) -> (clause::Model, [clause_version::Model; 2]) {
    let id = rng.uuid();
    let org = &orgs[rng.below(orgs.len())];
    let language = LANGUAGES[i % LANGUAGES.len()];
    let lexicon = lexicon(language);
    let created = base_time() + Duration::seconds(i as i64);
    let title_words = 3 + rng.below(4);
    let title = capitalised(&words(rng, lexicon, title_words));
    let sentences: Vec<String> = (0..2 + rng.below(3))
        .map(|_| {
            let opener = rng.pick(&lexicon.openers).clone();
            let count = 8 + rng.below(12);
            format!("{opener} {}.", words(rng, lexicon, count))
        })
        .collect();
    let impacts = some_of(rng, &EnvironmentalImpact::iter().collect::<Vec<_>>(), 2);
    let social = some_of(rng, &SocialObjective::iter().collect::<Vec<_>>(), 2);
    let mut cpvs: Vec<String> = Vec::new();
    for _ in 0..=rng.below(2) {
        // Codes repeat within a clause no more than the API allows them to.
        let code = cpv_code(rng);
        if !cpvs.contains(&code) {
            cpvs.push(code);
        }
    }
    let labels: Vec<&str> = (0..rng.below(3)).map(|_| *rng.pick(&LABELS)).collect();
    let purpose = capitalised(&words(rng, lexicon, 8));
    let verification = capitalised(&words(rng, lexicon, 6));
    let follow_up = capitalised(&words(rng, lexicon, 6));
    let kind = *rng.pick(&ClauseKind::iter().collect::<Vec<_>>());
    let level = *rng.pick(&AmbitionLevel::iter().collect::<Vec<_>>());
    let origin = *rng.pick(&CriteriaOrigin::iter().collect::<Vec<_>>());
    let applicability = *rng.pick(&Applicability::iter().collect::<Vec<_>>());
    let group = *rng.pick(&ProductGroup::iter().collect::<Vec<_>>());
    let version = |number: i32, published_at| clause_version::Model {
        clause_id: id,
        version: number,
        title: title.clone(),
        purpose: Some(purpose.clone()),
        text: sentences.join(" "),
        scoring_rule: (kind == ClauseKind::AwardCriterion)
            .then(|| "Points in proportion to the share of the requirement met.".to_owned()),
        verification: Some(verification.clone()),
        follow_up: Some(follow_up.clone()),
        kind: Some(kind),
        ambition_level: Some(level),
        environmental_impacts: codes::encode_enums(&impacts),
        social_objectives: codes::encode_enums(&social),
        origin: Some(origin),
        applicability: Some(applicability),
        cpv_codes: codes::encode(&cpvs),
        product_group: Some(group),
        labels: codes::encode(&labels),
        language,
        licence: "CC-BY-4.0".to_owned(),
        last_reviewed: NaiveDate::from_ymd_opt(2022 + (i % 5) as i32, 1 + (i % 12) as u32, 1),
        published_at,
    };
    let draft = version(clause_version::DRAFT, None);
    let published = version(1, Some(created));
    let header = clause::Model {
        id,
        organization_id: org.id,
        status: PublicationStatus::Published,
        revision: 2,
        published_version: 1,
        withdrawn_reason: None,
        withdrawn_at: None,
        derived_from_id: None,
        derived_from_version: None,
        created_at: created,
        updated_at: created,
        origin: None,
    };
    (header, [draft, published])
}

fn tender_result_rows(
    rng: &mut Rng,
    i: usize,
    orgs: &[organization::Model],
    clauses: &[(Uuid, Uuid)],
) -> (tender_result::Model, Vec<tender_result_clause::Model>) {
    let id = rng.uuid();
    let org = &orgs[rng.below(orgs.len())];
    let created = base_time() + Duration::seconds(i as i64);
    let awarded = rng.chance(85);
    let cited: Vec<Uuid> = {
        let mut ids = Vec::new();
        for _ in 0..=rng.below(3) {
            let (clause, _) = *rng.pick(clauses);
            if !ids.contains(&clause) {
                ids.push(clause);
            }
        }
        ids
    };
    let outcomes: Vec<ClauseOutcome> = ClauseOutcome::iter().collect();
    let follow_ups: Vec<FollowUpResult> = FollowUpResult::iter().collect();
    let rows = cited
        .iter()
        .enumerate()
        .map(|(position, clause)| tender_result_clause::Model {
            tender_result_id: id,
            position: position as i32,
            clause_id: *clause,
            clause_version: 1,
            outcome: *rng.pick(&outcomes),
            follow_up: *rng.pick(&follow_ups),
        })
        .collect();
    let sustainability = [10, 20, 25, 30, 40][rng.below(5)];
    let result = tender_result::Model {
        id,
        organization_id: org.id,
        status: PublicationStatus::Published,
        template_id: None,
        template_version: None,
        cpv_code: cpv_code(rng),
        procedure: *rng.pick(&ProcedureType::iter().collect::<Vec<_>>()),
        award_month: NaiveDate::from_ymd_opt(2023 + (i % 4) as i32, 1 + (i % 12) as u32, 1)
            .unwrap_or_default(),
        tenders_received: 1 + rng.below(8) as i32,
        sme_tenders: Some(rng.below(3) as i32),
        price_weight: 70 - sustainability,
        cost_weight: 0,
        quality_weight: 30 + sustainability,
        sustainability_weight: sustainability,
        awarded,
        no_award_reason: (!awarded).then(|| "No tender met the requirements.".to_owned()),
        value_band: *rng.pick(&ValueBand::iter().collect::<Vec<_>>()),
        appealed: rng.chance(8),
        lessons_learned: None,
        withdrawn_reason: None,
        withdrawn_at: None,
        created_at: created,
        updated_at: created,
        origin: None,
    };
    (result, rows)
}

fn progress_bar(show: bool, len: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template("{msg:14} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// Writes one batch of records, their child rows and their change events in one transaction.
async fn write_batch<A, B>(
    db: &DatabaseConnection,
    records: Vec<A>,
    children: Vec<B>,
    events: Vec<change_event::ActiveModel>,
) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Send,
    B: ActiveModelTrait + Send,
{
    let txn = db.begin().await?;
    A::Entity::insert_many(records)
        .exec_without_returning(&txn)
        .await?;
    B::Entity::insert_many(children)
        .exec_without_returning(&txn)
        .await?;
    change_event::Entity::insert_many(events)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Writes `clauses` synthetic clauses as an import file (`POST /import/clauses.ndjson`, one
/// `CreateClauseInput` a line): the same texts and facets the seed writes, ready to publish.
pub fn write_import_file(
    out: &mut impl std::io::Write,
    clauses: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let orgs = organizations(&mut rng, 10);
    for i in 0..clauses {
        let (_, [draft, _]) = clause_rows(&mut rng, i, &orgs);
        let content = crate::service::clause::ClauseContent::from(draft);
        serde_json::to_writer(&mut *out, &content)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes `clauses` synthetic published clauses (and organisations and tender results to go
/// with them) into an empty catalogue.
pub async fn seed(
    db: &DatabaseConnection,
    clauses: usize,
    seed: u64,
    progress: bool,
) -> anyhow::Result<Seeded> {
    if clause::Entity::find().count(db).await? > 0 {
        bail!("the database already holds clauses; seed synthetic data into an empty one");
    }
    let mut rng = Rng::new(seed);
    let orgs = organizations(&mut rng, (clauses / 250).clamp(10, 400));
    let results = clauses / 50;
    let bar = progress_bar(progress, (orgs.len() + clauses + results) as u64);

    bar.set_message("organisations");
    let txn = db.begin().await?;
    let mut events = Vec::with_capacity(orgs.len());
    for org in &orgs {
        let record = Record::Organization {
            organization: org.clone(),
        };
        events.push(event(EntityType::Organization, org.id, None, &record)?);
    }
    organization::Entity::insert_many(orgs.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(&txn)
        .await
        .context("cannot write organisations")?;
    change_event::Entity::insert_many(events)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    bar.inc(orgs.len() as u64);

    bar.set_message("clauses");
    let mut written: Vec<(Uuid, Uuid)> = Vec::with_capacity(clauses);
    let mut i = 0;
    while i < clauses {
        let end = (i + BATCH).min(clauses);
        let mut headers = Vec::with_capacity(end - i);
        let mut versions = Vec::with_capacity(2 * (end - i));
        let mut events = Vec::with_capacity(end - i);
        for n in i..end {
            let (header, [draft, published]) = clause_rows(&mut rng, n, &orgs);
            let record = Record::Clause {
                clause: header.clone(),
                versions: vec![published.clone()],
            };
            events.push(event(EntityType::Clause, header.id, Some(1), &record)?);
            written.push((header.id, header.organization_id));
            headers.push(header.into_active_model());
            versions.push(draft.into_active_model());
            versions.push(published.into_active_model());
        }
        write_batch(db, headers, versions, events).await?;
        bar.inc((end - i) as u64);
        i = end;
    }

    bar.set_message("tender results");
    let mut i = 0;
    while i < results {
        let end = (i + BATCH).min(results);
        let mut rows = Vec::with_capacity(end - i);
        let mut cited = Vec::new();
        let mut events = Vec::with_capacity(end - i);
        for n in i..end {
            let (result, clauses) = tender_result_rows(&mut rng, n, &orgs, &written);
            let record = Record::TenderResult {
                tender_result: result.clone(),
                clauses: clauses.clone(),
            };
            events.push(event(EntityType::TenderResult, result.id, None, &record)?);
            rows.push(result.into_active_model());
            cited.extend(clauses.into_iter().map(IntoActiveModel::into_active_model));
        }
        write_batch(db, rows, cited, events).await?;
        bar.inc((end - i) as u64);
        i = end;
    }
    bar.finish_with_message("done");
    Ok(Seeded {
        organizations: orgs.len(),
        clauses,
        tender_results: results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_zipf_skewed() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(
            (0..5).map(|_| a.next_u64()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next_u64()).collect::<Vec<_>>()
        );
        let lexicon = lexicon(Language::Sv);
        let mut rng = Rng::new(1);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for _ in 0..20_000 {
            *counts.entry(lexicon.word(&mut rng)).or_default() += 1;
        }
        let first = counts[lexicon.words[0].as_str()];
        let tenth = counts[lexicon.words[9].as_str()];
        // Rank 1 is drawn about ten times as often as rank 10.
        assert!(
            first > 6 * tenth && first < 14 * tenth,
            "{first} vs {tenth}"
        );
    }

    #[test]
    fn every_language_has_a_vocabulary_and_cpv_codes_validate() {
        for language in LANGUAGES {
            assert!(lexicon(language).words.len() >= 40, "{language:?}");
        }
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            assert!(cpv::validate(&cpv_code(&mut rng)).is_ok());
        }
    }

    #[test]
    fn synthetic_import_files_pass_the_import_checks() {
        let mut file = Vec::new();
        write_import_file(&mut file, 3_000, 11).expect("written");
        match crate::import::check(&file, true) {
            Ok(count) => assert_eq!(count, 3_000),
            Err(error) => panic!("a synthetic clause is invalid: {error}"),
        }
    }
}
