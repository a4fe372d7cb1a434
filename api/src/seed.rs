//! The demo catalogue (`data/demo-catalogue.json`), loaded through the same services and
//! validation as API writes, in one transaction: it lands whole or not at all.

use std::collections::HashMap;

use anyhow::{Context, anyhow, bail};
use entity::{ClauseOutcome, FollowUpResult, Language, PublicationStatus, organization};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{Caller, Identity, Role},
    error::ServiceError,
    service::{
        clause::{self, ClauseContent},
        organization::{CreateOrganizationInput, create_unchecked},
        template::{self, CreateTemplateInput, TemplateClauseInput},
        tender_result::{self, ReportTenderResultInput, TenderResultClauseInput},
    },
};

const DEMO_CATALOGUE: &str = include_str!("../data/demo-catalogue.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Demo {
    organizations: Vec<DemoOrganization>,
    clauses: Vec<DemoClause>,
    templates: Vec<DemoTemplate>,
    tender_results: Vec<DemoResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoOrganization {
    key: String,
    #[serde(flatten)]
    input: CreateOrganizationInput,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoClause {
    key: String,
    org: String,
    status: PublicationStatus,
    withdrawn_reason: Option<String>,
    #[serde(flatten)]
    content: ClauseContent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoClauseRef {
    clause: String,
    weight: Option<i32>,
    mandatory: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoTemplate {
    key: String,
    org: String,
    title: String,
    description: Option<String>,
    language: Language,
    cpv_codes: Vec<String>,
    clauses: Vec<DemoClauseRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoResultClause {
    clause: String,
    outcome: ClauseOutcome,
    follow_up: FollowUpResult,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoResult {
    org: String,
    template: Option<String>,
    clauses: Vec<DemoResultClause>,
    #[serde(flatten)]
    input: ReportTenderResultInput,
}

/// Counts of what a load wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub organizations: usize,
    pub clauses: usize,
    pub templates: usize,
    pub tender_results: usize,
}

fn describe(error: ServiceError, what: &str) -> anyhow::Error {
    match error {
        ServiceError::BadInput { field, message } => anyhow!("{what}: {field}: {message}"),
        ServiceError::Internal(e) => e.context(what.to_owned()),
        other => anyhow!("{what}: {other:?}"),
    }
}

fn publisher(org: Uuid) -> Identity {
    Identity::User(Caller {
        sub: "demo-seed".to_owned(),
        org: Some(org),
        roles: vec![Role::Publisher],
    })
}

fn lookup<'a, T>(map: &'a HashMap<String, T>, key: &str, what: &str) -> anyhow::Result<&'a T> {
    map.get(key)
        .with_context(|| format!("demo catalogue: unknown {what} `{key}`"))
}

/// Loads the demo catalogue when the database holds no organisation yet.
pub async fn load_demo_if_empty(db: &DatabaseConnection) -> anyhow::Result<Option<Loaded>> {
    if organization::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let loaded = load_demo(db).await?;
    tracing::info!(?loaded, "demo catalogue loaded");
    Ok(Some(loaded))
}

/// Loads the demo catalogue in one transaction.
pub async fn load_demo(db: &DatabaseConnection) -> anyhow::Result<Loaded> {
    let demo: Demo =
        serde_json::from_str(DEMO_CATALOGUE).context("demo catalogue is not valid JSON")?;
    let txn = db.begin().await?;
    let admin = Caller {
        sub: "demo-seed".to_owned(),
        org: None,
        roles: vec![Role::Admin],
    };
    let mut loaded = Loaded::default();

    let mut orgs = HashMap::new();
    for org in demo.organizations {
        let what = format!("organisation {}", org.key);
        let row = create_unchecked(&txn, &admin, org.input)
            .await
            .map_err(|e| describe(e, &what))?;
        orgs.insert(org.key, row.id);
        loaded.organizations += 1;
    }

    let mut clauses = HashMap::new();
    for c in demo.clauses {
        let what = format!("clause {}", c.key);
        let identity = publisher(*lookup(&orgs, &c.org, "organisation")?);
        let row = clause::create(&txn, &identity, c.content)
            .await
            .map_err(|e| describe(e, &what))?;
        clause::publish(&txn, &identity, row.id, None)
            .await
            .map_err(|e| describe(e, &what))?;
        match c.status {
            PublicationStatus::Published => {}
            PublicationStatus::Withdrawn => {
                let reason = c
                    .withdrawn_reason
                    .with_context(|| format!("{what}: withdrawnReason is missing"))?;
                clause::withdraw(&txn, &identity, row.id, reason, None)
                    .await
                    .map_err(|e| describe(e, &what))?;
            }
            PublicationStatus::Draft => bail!("{what}: the demo holds published material only"),
        }
        clauses.insert(c.key, row.id);
        loaded.clauses += 1;
    }

    let mut templates = HashMap::new();
    for t in demo.templates {
        let what = format!("template {}", t.key);
        let identity = publisher(*lookup(&orgs, &t.org, "organisation")?);
        let refs = t
            .clauses
            .iter()
            .map(|r| {
                Ok(TemplateClauseInput {
                    clause_id: lookup(&clauses, &r.clause, "clause")?.to_string().into(),
                    clause_version: None,
                    weight: r.weight,
                    mandatory: r.mandatory,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let input = CreateTemplateInput {
            title: t.title,
            description: t.description,
            language: t.language,
            cpv_codes: t.cpv_codes,
            clauses: refs,
        };
        let row = template::create(&txn, &identity, input)
            .await
            .map_err(|e| describe(e, &what))?;
        template::publish(&txn, &identity, row.id, None)
            .await
            .map_err(|e| describe(e, &what))?;
        templates.insert(t.key, row.id);
        loaded.templates += 1;
    }

    for (i, r) in demo.tender_results.into_iter().enumerate() {
        let what = format!("tender result #{i}");
        let identity = publisher(*lookup(&orgs, &r.org, "organisation")?);
        let mut input = r.input;
        input.template_id = match &r.template {
            Some(key) => Some(lookup(&templates, key, "template")?.to_string().into()),
            None => None,
        };
        input.clauses = r
            .clauses
            .iter()
            .map(|c| {
                Ok(TenderResultClauseInput {
                    clause_id: lookup(&clauses, &c.clause, "clause")?.to_string().into(),
                    clause_version: None,
                    outcome: c.outcome,
                    follow_up: c.follow_up,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        tender_result::report(&txn, &identity, input)
            .await
            .map_err(|e| describe(e, &what))?;
        loaded.tender_results += 1;
    }

    txn.commit().await?;
    Ok(loaded)
}
