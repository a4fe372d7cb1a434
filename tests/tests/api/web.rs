//! The officer web app over plain HTTP, as a browser without JavaScript uses it: language
//! negotiation, security headers, search with facets, the clause page, the basket and its
//! DOCX export, sign-in and reuse. The same journeys in a real browser (keyboard only, axe)
//! are in `tests/browser/` and run by `the_browser_journeys_pass`.

use std::{collections::BTreeMap, io::Read, path::PathBuf, process::Command};

use commons_api::auth::Role;
use serde_json::json;

use crate::helpers::*;

/// A browser without JavaScript: keeps cookies, does not follow redirects.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    headers: Vec<(&'static str, String)>,
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, content) = pair.split_once('=').unwrap();
            if value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), content.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> (Page, Vec<u8>) {
        let mut request = request.header("Cookie", self.cookie_header());
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap().to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        (
            Page {
                status,
                headers,
                body,
            },
            bytes,
        )
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.send(request).await.0
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .client
            .post(self.app.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await.0
    }

    fn csrf(&self) -> String {
        self.cookies.get("gpc_csrf").cloned().unwrap()
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every clause page linked from a page, in order, without repeats.
fn clause_links(html: &str, lang: &str) -> Vec<String> {
    let prefix = format!("href=\"/{lang}/clauses/");
    let mut ids: Vec<String> = Vec::new();
    for part in html.split(&prefix).skip(1) {
        let id: String = part.chars().take_while(|c| *c != '"').collect();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Every `src`/`href`/`action` value of a page.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attribute in [" src=\"", " href=\"", " action=\""] {
        for part in html.split(attribute).skip(1) {
            out.push(part.chars().take_while(|c| *c != '"').collect());
        }
    }
    out
}

fn demo() -> Options {
    Options {
        demo: true,
        ..Options::default()
    }
}

backend_test!(
    the_search_page_finds_filters_and_pages_without_javascript,
    demo(),
    |app| {
        let mut browser = Browser::new(&app);
        browser
            .headers
            .push(("Accept-Language", "sv-SE,sv;q=0.9,en;q=0.5".into()));
        let root = browser.get("/").await;
        assert_eq!(root.status, 303);
        assert_eq!(root.header("location"), "/sv/");

        let page = browser.get("/sv/?q=%C3%A5tertagande").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csp = page.header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        assert!(page.body.contains("<html lang=\"sv\">"));
        for reference in references(&page.body) {
            assert!(
                reference.starts_with('/') && !reference.starts_with("//")
                    || reference.starts_with('#'),
                "the page refers to another host: {reference}"
            );
        }
        let all = clause_links(&page.body, "sv");
        assert!(!all.is_empty(), "nothing found for återtagande");
        assert!(page.body.contains("<mark>"), "no highlighted word");
        // A facet with counts; choosing a value narrows the hits and keeps the query.
        assert!(
            page.body
                .contains("name=\"kind\" value=\"CONTRACT_PERFORMANCE_CLAUSE\"")
        );
        let narrowed = browser
            .get("/sv/?q=%C3%A5tertagande&kind=CONTRACT_PERFORMANCE_CLAUSE&kind=NO_SUCH_KIND")
            .await;
        assert_eq!(narrowed.status, 200);
        assert!(
            narrowed
                .body
                .contains("value=\"CONTRACT_PERFORMANCE_CLAUSE\" checked")
        );
        assert!(narrowed.body.contains("value=\"återtagande\""));
        assert!(!narrowed.body.contains("value=\"NO_SUCH_KIND\""));
        for id in clause_links(&narrowed.body, "sv") {
            let clause = browser.get(&format!("/sv/clauses/{id}")).await;
            assert!(
                clause.body.contains("Särskilt kontraktsvillkor"),
                "a hit of another kind"
            );
        }
        // Paging: the next page has other hits than the first.
        let first = browser.get("/en/?sort=newest").await;
        let next: String = first
            .body
            .split("rel=\"next\"")
            .next()
            .and_then(|head| head.rsplit("href=\"").next())
            .map(|href| href.chars().take_while(|c| *c != '"').collect())
            .unwrap();
        let second = browser.get(&next.replace("&amp;", "&")).await;
        assert_eq!(second.status, 200);
        let (a, b) = (
            clause_links(&first.body, "en"),
            clause_links(&second.body, "en"),
        );
        assert_eq!(a.len(), 20);
        assert!(!b.is_empty() && b.iter().all(|id| !a.contains(id)));
        // A CPV prefix the API refuses is explained on the page, with the form kept.
        let refused = browser.get("/en/?q=energy&cpv=3x").await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("role=\"alert\"") && refused.body.contains("cpv"));
        assert!(refused.body.contains("id=\"q\""));
        // Search-as-you-type gets only the parts it swaps.
        let partial = browser.get("/en/?q=energy&partial=1").await;
        assert!(
            partial.body.starts_with("<aside id=\"filters\""),
            "{}",
            &partial.body[..80]
        );
        assert!(!partial.body.contains("<html"));
    }
);

backend_test!(
    the_basket_collects_reorders_weighs_and_exports_a_docx,
    demo(),
    |app| {
        let mut browser = Browser::new(&app);
        let page = browser.get("/sv/?q=%C3%A5tertagande").await;
        let take_back = clause_links(&page.body, "sv")[0].clone();
        let award = browser.get("/sv/?kind=AWARD_CRITERION").await;
        let award = clause_links(&award.body, "sv")[0].clone();
        let selection = browser.get("/sv/?kind=SELECTION_CRITERION").await;
        let selection = clause_links(&selection.body, "sv")[0].clone();
        let csrf = browser.csrf();

        for id in [&take_back, &award, &selection] {
            let added = browser
                .post(
                    "/sv/basket",
                    &[
                        ("csrf", &csrf),
                        ("action", "add"),
                        ("id", id),
                        ("return", "/sv/?q=x"),
                    ],
                )
                .await;
            assert_eq!(added.status, 303);
            assert_eq!(added.header("location"), "/sv/?q=x");
        }
        let cookie = &browser.cookies["gpc_basket"];
        assert_eq!(cookie.split('.').count(), 3);
        // A form from elsewhere (no token, or another one) changes nothing.
        let forged = browser
            .post(
                "/sv/basket",
                &[
                    ("csrf", "0123456789abcdef0123456789abcdef"),
                    ("action", "clear"),
                ],
            )
            .await;
        assert_eq!(forged.status, 403);
        assert_eq!(browser.cookies["gpc_basket"].split('.').count(), 3);
        // A return address off the site is not followed.
        let moved = browser
            .post(
                "/sv/basket",
                &[
                    ("csrf", &csrf),
                    ("action", "down"),
                    ("id", &take_back),
                    ("return", "https://evil.example/"),
                ],
            )
            .await;
        assert_eq!(moved.header("location"), "/sv/basket");
        let weighed = browser
            .post(
                "/sv/basket",
                &[
                    ("csrf", &csrf),
                    ("action", "weights"),
                    (&format!("w-{award}"), "15"),
                ],
            )
            .await;
        assert_eq!(weighed.status, 303);

        let basket = browser.get("/sv/basket").await;
        assert_eq!(basket.status, 200);
        assert_eq!(
            clause_links(&basket.body, "sv"),
            [award.clone(), take_back.clone(), selection.clone()]
        );
        assert!(
            basket
                .body
                .contains("Total hållbarhetsvikt för tilldelningskriterierna: 15 %")
        );

        let response = browser
            .client
            .get(app.url("/sv/basket/tender.docx"))
            .header("Cookie", browser.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let bytes = response.bytes().await.unwrap().to_vec();
        let text = docx_text(&bytes);
        // Grouped as procurement documents are, in Swedish, each clause with its source.
        let order: Vec<usize> = [
            "Kvalificeringskrav",
            "Tilldelningskriterier",
            "Särskilda kontraktsvillkor",
        ]
        .iter()
        .map(|heading| {
            text.find(heading)
                .unwrap_or_else(|| panic!("no {heading} in {text}"))
        })
        .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "headings out of order"
        );
        for id in [&take_back, &award, &selection] {
            assert!(
                text.contains(&format!("/sv/clauses/{id}")),
                "no source link for {id}"
            );
        }
        assert!(text.contains("Plan för återtagande"));
        assert!(text.contains("Vikt: 15 %"));
        assert!(text.contains("Källa: "));
        libreoffice_reads(&bytes, "Tilldelningskriterier");

        let print = browser.get("/sv/basket/print").await;
        assert!(print.body.contains("<h2>Tilldelningskriterier</h2>"));
        let cleared = browser
            .post("/sv/basket", &[("csrf", &csrf), ("action", "clear")])
            .await;
        assert_eq!(cleared.status, 303);
        assert!(!browser.cookies.contains_key("gpc_basket"));
    }
);

/// The text of a DOCX's main part.
fn docx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(zip.by_name("word/styles.xml").is_ok());
    let mut text = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
}

/// Opens the document in LibreOffice (when installed) and checks the text survives.
fn libreoffice_reads(bytes: &[u8], expected: &str) {
    let Ok(version) = Command::new("soffice").arg("--version").output() else {
        #[expect(clippy::print_stderr, reason = "say why the check skipped")]
        {
            eprintln!("skipped the LibreOffice round trip: soffice is not installed");
        }
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tender.docx");
    std::fs::write(&input, bytes).unwrap();
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let status = Command::new("soffice")
        .args([
            &profile,
            "--headless",
            "--convert-to",
            "txt:Text",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(dir.path().join("tender.txt")).unwrap();
    assert!(text.contains(expected), "LibreOffice read: {text}");
}

backend_test!(
    the_clause_page_shows_versions_with_a_word_diff_and_evidence,
    |app| {
        let org = app.org("lund", "SE").await;
        let token = publisher(org);
        let mut input = clause_input("Återtagande av datorer");
        input["text"] = json!("Leverantören ska ta tillbaka datorerna inom 3 år.");
        input["language"] = json!("SV");
        let id = published_clause(&app, &token, input).await;
        let revision = app
            .ok(
                Some(&token),
                "query($id: ID!) { clause(id: $id) { revision } }",
                json!({ "id": id }),
            )
            .await["clause"]["revision"]
            .as_i64()
            .unwrap();
        app.ok(
        Some(&token),
        "mutation($input: UpdateClauseInput!) { updateClause(input: $input) { clause { id } } }",
        json!({ "input": { "id": id, "expectedVersion": revision, "text": "Leverantören ska ta tillbaka datorerna inom 5 år." } }),
    )
    .await;
        app.ok(Some(&token), PUBLISH_CLAUSE, json!({ "id": id }))
            .await;

        let mut browser = Browser::new(&app);
        let page = browser.get(&format!("/en/clauses/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body
                .contains("<h1 lang=\"sv\">Återtagande av datorer</h1>")
        );
        assert!(page.body.contains("Changes from version 1 to version 2"));
        assert!(page.body.contains("removed: </span>3"), "{}", page.body);
        assert!(page.body.contains("added: </span>5"));
        assert!(page.body.contains("Portable computers / Bärbara datorer"));
        assert!(page.body.contains("Not yet used in a reported tender."));
        let swedish = browser.get(&format!("/sv/clauses/{id}?from=2&to=1")).await;
        assert!(
            swedish
                .body
                .contains("Ändringar från version 2 till version 1")
        );
        assert_eq!(browser.get("/en/clauses/not-an-id").await.status, 404);
        assert_eq!(browser.get(&format!("/xx/clauses/{id}")).await.status, 404);
        // Anonymous readers get no reuse button.
        assert!(!page.body.contains("/reuse"));
    }
);

backend_test!(
    signing_in_gives_a_strict_cookie_and_lets_an_officer_reuse_a_clause,
    |app| {
        let author = app.org("lund", "SE").await;
        let reader = app.org("ystad", "SE").await;
        let id = published_clause(&app, &publisher(author), clause_input("Energikrav")).await;
        let mut browser = Browser::new(&app);
        browser.get("/sv/sign-in").await;
        let csrf = browser.csrf();
        let refused = browser
            .post("/sv/sign-in", &[("csrf", &csrf), ("token", "not.a.token")])
            .await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("aria-invalid=\"true\""));
        assert!(!browser.cookies.contains_key("gpc_session"));

        browser.headers.push(("X-Forwarded-Proto", "https".into()));
        let token = token(Some(reader), &[Role::Publisher]);
        let request = browser
            .client
            .post(app.url("/sv/sign-in"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Forwarded-Proto", "https")
            .header("Cookie", browser.cookie_header())
            .body(format!("csrf={csrf}&token={token}"));
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 303);
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("gpc_session="))
            .unwrap();
        for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(cookie.contains(flag), "{cookie} lacks {flag}");
        }
        browser.keep_cookies(&response);

        let page = browser.get(&format!("/sv/clauses/{id}")).await;
        assert!(page.body.contains(&format!("/sv/clauses/{id}/reuse")));
        let reused = browser
            .post(
                &format!("/sv/clauses/{id}/reuse"),
                &[("csrf", &csrf), ("version", "1")],
            )
            .await;
        // The copy opens in the editor of the reader's organisation.
        assert_eq!(reused.status, 303, "{}", reused.body);
        let draft = reused.header("location").to_owned();
        assert!(draft.starts_with("/sv/mine/"), "{draft}");
        let editor = browser.get(&draft).await;
        assert_eq!(editor.status, 200);
        assert!(editor.body.contains("tillhör nu din organisation"));
        assert!(editor.body.contains("value=\"Energikrav\""));
        let lineage = app
            .ok(
                None,
                "query($id: ID!) { clause(id: $id) { lineage { reuseCount } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(lineage["clause"]["lineage"]["reuseCount"], 1);
        let forged = browser
            .post(&format!("/sv/clauses/{id}/reuse"), &[("version", "1")])
            .await;
        assert_eq!(forged.status, 403);

        let out = browser.post("/sv/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert!(!browser.cookies.contains_key("gpc_session"));
    }
);

/// The value of the hidden `expectedVersion` field of the first form that has one.
fn expected_version(html: &str) -> String {
    html.split("name=\"expectedVersion\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned()
}

/// A complete clause as the editor form posts it.
fn clause_form<'a>(csrf: &'a str, title: &'a str, text: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("action", "save"),
        ("title", title),
        ("text", text),
        ("purpose", "Longer use of devices."),
        ("verification", "A signed take-back plan, or equivalent."),
        ("followUp", "Yearly report of returned units."),
        ("language", "EN"),
        ("kind", "CONTRACT_PERFORMANCE_CLAUSE"),
        ("ambitionLevel", "CORE"),
        ("productGroup", "COMPUTERS"),
        ("environmentalImpacts", "CIRC_ECON"),
        ("environmentalImpacts", "CLIM_MITIG"),
        ("cpvCodes", "30213100-6"),
        ("labels", "TCO Certified Generation 10"),
        ("licence", "CC-BY-4.0"),
    ]
}

backend_test!(
    a_publisher_drafts_previews_publishes_and_withdraws_a_clause_in_the_browser,
    |app| {
        let org = app.org("kalmar", "SE").await;
        let other = app.org("borgholm", "SE").await;
        let count = "query($org: ID!) { clauses(filter: { organizationId: $org, status: [DRAFT, PUBLISHED, WITHDRAWN] }) { totalCount } }";
        let owner = publisher(org);
        let stored = || async {
            app.ok(Some(&owner), count, json!({ "org": org.to_string() }))
                .await["clauses"]["totalCount"]
                .as_i64()
                .unwrap()
        };

        // Visitors are sent to sign in.
        let mut visitor = Browser::new(&app);
        let page = visitor.get("/en/mine").await;
        assert_eq!(page.status, 303);
        assert_eq!(page.header("location"), "/en/sign-in");

        let mut browser = Browser::new(&app);
        browser.get("/en/sign-in").await;
        browser.cookies.insert("gpc_session".into(), owner.clone());
        let csrf = browser.csrf();
        let mine = browser.get("/en/mine").await;
        assert_eq!(mine.status, 200);
        assert!(mine.body.contains("href=\"/en/mine/new\""));
        assert!(mine.body.contains("aria-current=\"page\">My organisation"));

        // Refusals name the field, keep what was typed and write nothing.
        let text = "The supplier shall take back [100 %] of devices. Contact person Anna Berg, anna.berg@kalmar.se, for questions.";
        let mut form = clause_form(&csrf, "", text);
        let page = browser.post("/en/mine/new", &form).await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("id=\"f-title-error\""), "{}", page.body);
        assert!(page.body.contains("aria-invalid=\"true\""));
        assert!(
            page.body.contains("anna.berg@kalmar.se"),
            "the text was lost"
        );
        form[2] = ("title", "Take-back of devices");
        form.retain(|(k, _)| *k != "cpvCodes");
        form.push(("cpvCodes", "30213100-5"));
        let page = browser.post("/en/mine/new", &form).await;
        assert_eq!(page.status, 400);
        assert!(
            page.body.contains("id=\"f-cpvCodes-error\""),
            "{}",
            page.body
        );
        form.retain(|(k, _)| *k != "cpvCodes" && *k != "lastReviewed");
        form.push(("cpvCodes", "30213100-6"));
        form.push(("lastReviewed", "31.12.2026"));
        let page = browser.post("/en/mine/new", &form).await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("id=\"f-lastReviewed-error\""));
        assert_eq!(stored().await, 0, "a refused form wrote something");

        // The preview marks what publishing replaces, without saving.
        form.retain(|(k, _)| *k != "lastReviewed" && *k != "action");
        let mut preview = form.clone();
        preview.push(("action", "preview"));
        let page = browser.post("/en/mine/new", &preview).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("<mark class=\"finding\">anna.berg@kalmar.se</mark>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("<mark class=\"finding\">Anna Berg</mark>")
        );
        preview.push(("partial", "1"));
        let fragment = browser.post("/en/mine/new", &preview).await;
        assert!(fragment.body.starts_with("<section id=\"anon-preview\""));
        assert!(!fragment.body.contains("<html"));
        assert_eq!(stored().await, 0, "a preview wrote something");

        form.push(("action", "save"));
        let created = browser.post("/en/mine/new", &form).await;
        assert_eq!(created.status, 303, "{}", created.body);
        let location = created.header("location").to_owned();
        assert!(location.ends_with("?notice=created"), "{location}");
        let id = location
            .trim_start_matches("/en/mine/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let editor = browser.get(&location).await;
        assert_eq!(editor.status, 200);
        assert!(editor.body.contains("The draft is created"));
        assert!(
            editor
                .body
                .contains("<mark class=\"finding\">anna.berg@kalmar.se</mark>")
        );
        assert!(editor.body.contains("value=\"CLIM_MITIG\" checked"));

        // Another organisation cannot open the editor.
        let mut stranger = Browser::new(&app);
        stranger
            .cookies
            .insert("gpc_session".into(), publisher(other));
        assert_eq!(stranger.get(&format!("/en/mine/{id}")).await.status, 404);
        // A form without this browser's token is refused.
        let forged = browser
            .post(
                &format!("/en/mine/{id}/publish"),
                &[("csrf", "0123456789abcdef0123456789abcdef")],
            )
            .await;
        assert_eq!(forged.status, 403);

        // Publishing anonymises: the published text has no name and no address.
        let revision = expected_version(&editor.body);
        let published = browser
            .post(
                &format!("/en/mine/{id}/publish"),
                &[("csrf", &csrf), ("expectedVersion", &revision)],
            )
            .await;
        assert_eq!(published.status, 303, "{}", published.body);
        let clause = app
            .ok(
                None,
                "query($id: ID!) { clause(id: $id) { status latest { text } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(clause["clause"]["status"], "PUBLISHED");
        let public = clause["clause"]["latest"]["text"].as_str().unwrap();
        assert!(
            !public.contains("anna.berg") && !public.contains("Anna Berg"),
            "{public}"
        );

        // Two editors: the second save against the old revision keeps its text and shows
        // the first one's.
        let editor = browser.get(&format!("/en/mine/{id}")).await;
        let revision = expected_version(&editor.body);
        let mut first = clause_form(
            &csrf,
            "Take-back of devices",
            "First editor's requirement text.",
        );
        first.push(("expectedVersion", &revision));
        let saved = browser.post(&format!("/en/mine/{id}"), &first).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let mut second = clause_form(
            &csrf,
            "Take-back of devices",
            "Second editor's requirement text.",
        );
        second.push(("expectedVersion", &revision));
        let conflict = browser.post(&format!("/en/mine/{id}"), &second).await;
        assert_eq!(conflict.status, 409, "{}", conflict.body);
        assert!(conflict.body.contains("Someone else saved in the meantime"));
        assert!(
            conflict
                .body
                .contains(">Second editor&#39;s requirement text.</textarea>")
                || conflict
                    .body
                    .contains(">Second editor's requirement text.</textarea>"),
            "{}",
            conflict.body
        );
        assert!(conflict.body.contains("First editor"));
        assert_ne!(expected_version(&conflict.body), revision);

        // Withdrawing needs a reason.
        let page = browser
            .post(
                &format!("/en/mine/{id}/withdraw"),
                &[("csrf", &csrf), ("reason", " ")],
            )
            .await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("id=\"f-reason-error\""));
        let page = browser
            .post(
                &format!("/en/mine/{id}/withdraw"),
                &[
                    ("csrf", &csrf),
                    ("reason", "Replaced by a newer label generation."),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        let mine = browser.get("/en/mine").await;
        assert!(mine.body.contains("<h2>Withdrawn</h2>"), "{}", mine.body);

        // What publishing lacks is shown at the field that lacks it.
        let mut bare = clause_form(
            &csrf,
            "Energy use of displays",
            "Displays shall meet [Energy Star 8].",
        );
        bare.retain(|(k, _)| *k != "cpvCodes");
        let created = browser.post("/en/mine/new", &bare).await;
        let draft = created
            .header("location")
            .trim_start_matches("/en/mine/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let refused = browser
            .post(&format!("/en/mine/{draft}/publish"), &[("csrf", &csrf)])
            .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body.contains("id=\"f-cpvCodes-error\""),
            "{}",
            refused.body
        );
    }
);

backend_test!(
    a_publisher_reports_a_tender_result_for_the_clauses_in_the_basket,
    |app| {
        let author = app.org("vaxjo", "SE").await;
        let buyer = app.org("ljungby", "SE").await;
        let id = published_clause(&app, &publisher(author), clause_input("Take-back")).await;
        let mut browser = Browser::new(&app);
        browser.get("/en/").await;
        browser
            .cookies
            .insert("gpc_session".into(), publisher(buyer));
        let csrf = browser.csrf();
        browser
            .post(
                "/en/basket",
                &[("csrf", &csrf), ("action", "add"), ("id", &id)],
            )
            .await;
        let page = browser.get("/en/mine/results/new").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&format!("name=\"outcome-{id}\"")));
        let outcome = format!("outcome-{id}");
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("cpvCode", "30213100-6"),
            ("procedure", "OPEN"),
            ("valueBand", "EUR100K_TO1M"),
            ("awardMonth", "May 2026"),
            ("tendersReceived", "4"),
            ("smeTenders", "2"),
            ("priceWeight", "60"),
            ("costWeight", "0"),
            ("qualityWeight", "40"),
            ("sustainabilityWeight", "20"),
            ("awarded", "true"),
            (outcome.as_str(), "MET_BY_ALL"),
        ];
        let refused = browser.post("/en/mine/results/new", &form).await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("id=\"f-awardMonth-error\""));
        assert!(
            refused.body.contains("value=\"4\""),
            "what was typed is kept"
        );
        form[4] = ("awardMonth", "2026-05");
        form[7] = ("priceWeight", "70");
        let refused = browser.post("/en/mine/results/new", &form).await;
        assert_eq!(refused.status, 400, "weights that do not sum to 100");
        assert!(refused.body.contains("role=\"alert\""));
        form[7] = ("priceWeight", "60");
        let done = browser.post("/en/mine/results/new", &form).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(done.body.contains("Thank you for the report"));
        let evidence = app
            .ok(
                None,
                "query($id: ID!) { clause(id: $id) { evidence { results } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(evidence["clause"]["evidence"]["results"], 1);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_in_every_language() {
    with_app(Backend::Sqlite, demo(), |app| async move {
        let mut browser = Browser::new(&app);
        let templates = browser.get("/en/templates").await;
        let template = templates
            .body
            .split("href=\"/en/templates/")
            .nth(1)
            .map(|rest| rest.chars().take_while(|c| *c != '"').collect::<String>())
            .unwrap();
        for lang in ["sv", "nb", "da", "fi", "en"] {
            for path in [
                "/",
                "/templates",
                &format!("/templates/{template}"),
                "/statistics",
                "/basket",
                "/sign-in",
            ] {
                let page = browser.get(&format!("/{lang}{path}")).await;
                assert_eq!(page.status, 200, "/{lang}{path}");
                assert!(
                    page.body.contains(&format!("<html lang=\"{lang}\">")),
                    "/{lang}{path}"
                );
                assert!(
                    !page.body.contains(">…<"),
                    "/{lang}{path} shows a missing text"
                );
            }
        }
        // "Use this template" fills the basket with its clauses.
        let csrf = browser.csrf();
        let used = browser
            .post(
                "/en/basket",
                &[("csrf", &csrf), ("action", "template"), ("id", &template)],
            )
            .await;
        assert_eq!(used.status, 303);
        let basket = browser.get("/en/basket").await;
        assert!(clause_links(&basket.body, "en").len() >= 2);
        let stats = browser.get("/sv/statistics").await;
        assert!(stats.body.contains("<svg class=\"chart\""));
        assert!(
            !stats.body.contains("style="),
            "inline styles break the CSP"
        );
        // The publisher's pages, signed in.
        let org = app.org("hjo", "SE").await;
        browser.cookies.insert("gpc_session".into(), publisher(org));
        for lang in ["sv", "nb", "da", "fi", "en"] {
            for path in ["/mine", "/mine/new", "/mine/results/new"] {
                let page = browser.get(&format!("/{lang}{path}")).await;
                assert_eq!(page.status, 200, "/{lang}{path}");
                assert!(
                    !page.body.contains(">…<"),
                    "/{lang}{path} shows a missing text"
                );
            }
        }
        assert_eq!(browser.get("/de/").await.status, 404);
        let graphiql = browser.get("/graphiql").await;
        assert_eq!(graphiql.status, 200);
    })
    .await;
}

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Drives Debian's Chromium through the journeys in `tests/browser/journeys.mjs`
/// (playwright-core, axe-core). Needs Node.js, `npm ci --prefix tests/browser` and
/// `chromium` (`.ci/run` prepares all three).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_journeys_pass() {
    let dir = browser_dir();
    // Playwright wants the executable's full path.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        });
    let prepared = dir.join("node_modules/playwright-core").is_dir();
    let found = chromium.is_some();
    let (Some(chromium), true) = (chromium, prepared) else {
        #[expect(clippy::print_stderr, reason = "say why the test skipped")]
        {
            eprintln!(
                "skipped: needs chromium and `npm ci --prefix tests/browser` (chromium found: {found}, packages installed: {prepared})"
            );
        }
        return;
    };
    with_app(Backend::Sqlite, demo(), |app| async move {
        let base = app.url("");
        let org = app.org("tingsryd", "SE").await;
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg(dir.join("journeys.mjs"))
                .arg(base.trim_end_matches('/'))
                .env("CHROMIUM", chromium)
                .env("PUBLISHER_TOKEN", publisher(org))
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "browser journeys failed:\n{report}\n{errors}"
        );
        assert!(report.contains("journeys passed"), "{report}");
    })
    .await;
}

/// Every GraphQL document the pages send validates against `schema.graphql` (graphql-js, in
/// `tests/browser/operations.mjs`).
#[test]
fn the_pages_operations_validate_against_the_schema() {
    let dir = browser_dir();
    if !dir.join("node_modules/graphql").is_dir() {
        #[expect(clippy::print_stderr, reason = "say why the test skipped")]
        {
            eprintln!("skipped: needs Node.js and `npm ci --prefix tests/browser`");
        }
        return;
    }
    let output = Command::new("node")
        .arg(dir.join("operations.mjs"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("operations valid"), "{report}");
}
