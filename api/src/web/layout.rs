//! The frame every page shares: skip link, header with navigation and language switch,
//! main landmark, footer. Plus small pieces several pages use.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Lang, assets, context::Ctx};

pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let lang = ctx.lang;
    let nav = [
        ("/", "nav.search"),
        ("/templates", "nav.templates"),
        ("/statistics", "nav.statistics"),
    ];
    let current = ctx.here.split('?').next().unwrap_or("/");
    let basket_count = ctx.basket.items.len();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (lang.t("app.name")) }
                link rel="icon" href=(assets::ICON_PATH) type="image/svg+xml";
                link rel="stylesheet" href=(assets::CSS_PATH);
                script src=(assets::JS_PATH) defer {}
                @for other in Lang::ALL {
                    link rel="alternate" hreflang=(other.code()) href=(ctx.here_in(other));
                }
            }
            body {
                a class="skip" href="#main" { (lang.t("nav.skip")) }
                header class="site" {
                    div class="bar" {
                        a class="brand" href=(ctx.link("/")) { (lang.t("app.name")) }
                        nav aria-label=(lang.t("nav.main")) {
                            ul {
                                @for (path, key) in nav {
                                    li { a href=(ctx.link(path)) aria-current=[(current == path).then_some("page")] { (lang.t(key)) } }
                                }
                                li {
                                    a href=(ctx.link("/basket")) aria-current=[(current == "/basket").then_some("page")] {
                                        (lang.t("nav.basket"))
                                        " " span class="count" { "(" (basket_count) ")" }
                                    }
                                }
                                @if matches!(ctx.identity, crate::auth::Identity::User(_)) {
                                    li { a href=(ctx.link("/mine")) aria-current=[current.starts_with("/mine").then_some("page")] { (lang.t("nav.mine")) } }
                                }
                                li { (session_link(ctx)) }
                            }
                        }
                        nav class="languages" aria-label=(lang.t("nav.language")) {
                            ul {
                                @for other in Lang::ALL {
                                    li {
                                        a href=(ctx.here_in(other)) hreflang=(other.code()) lang=(other.code())
                                            aria-current=[(other == lang).then_some("true")] { (other.endonym()) }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
                footer class="site" {
                    p { (lang.t("footer.about")) }
                    p {
                        a href="/graphiql" { (lang.t("footer.api")) }
                        " · "
                        a href="/schema.graphql" { (lang.t("footer.schema")) }
                    }
                }
            }
        }
    }
}

fn session_link(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    match &ctx.identity {
        crate::auth::Identity::Anonymous => html! {
            a href=(ctx.link("/sign-in")) { (lang.t("nav.sign_in")) }
        },
        crate::auth::Identity::User(_) => html! {
            form method="post" action=(ctx.link("/sign-out")) class="inline" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                button type="submit" class="link" { (lang.t("nav.sign_out")) }
            }
        },
    }
}

/// Text with the search backend's `<em>…</em>` marks shown as `<mark>`; everything else
/// escaped (the marks are the only markup a highlight may carry). The embedded backend's
/// snippets come HTML-escaped, Meilisearch's do not: entities are read back first so that
/// neither shows `&amp;#x27;`.
pub fn highlighted(text: &str) -> Markup {
    let text = unescape(text);
    let text = text.as_str();
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find("<em>") {
        let (before, after) = rest.split_at(start);
        out.push_str(&escape(before));
        let after = &after[4..];
        let (marked, tail) = after.split_once("</em>").unwrap_or((after, ""));
        out.push_str("<mark>");
        out.push_str(&escape(marked));
        out.push_str("</mark>");
        rest = tail;
    }
    out.push_str(&escape(rest));
    PreEscaped(out)
}

fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn escape(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    let _ = maud::Escaper::new(&mut out).write_str(text);
    out
}

/// The first `max` characters of a text, cut at a word, with an ellipsis.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut} …")
}

/// The proven-level badge.
pub fn proven_badge(lang: Lang, level: &str) -> Markup {
    html! {
        span class={ "badge proven-" (level.to_ascii_lowercase()) } {
            (lang.label("ProvenLevel", level))
        }
    }
}

/// The staleness warning with its reasons.
pub fn stale_warning(lang: Lang, reasons: &[serde_json::Value]) -> Markup {
    let reasons: Vec<String> = reasons
        .iter()
        .map(|r| {
            let label = lang.label("StaleReasonCode", super::ops::s(r, "code"));
            match super::ops::opt(r, "labelKey") {
                Some(key) => format!("{label} ({key})"),
                None => label.to_owned(),
            }
        })
        .collect();
    html! {
        span class="badge stale" {
            (lang.t("clause.stale")) @if !reasons.is_empty() { ": " (reasons.join("; ")) }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// "Add to my tender" (or a note that it is already there).
pub fn add_to_basket(ctx: &Ctx, id: &str, title: &str) -> Markup {
    let lang = ctx.lang;
    let in_basket = ctx.basket.contains(id);
    html! {
        @if in_basket {
            p class="in-basket" { (lang.t("basket.already")) " " a href=(ctx.link("/basket")) { (lang.t("basket.open")) } }
        } @else {
            form method="post" action=(ctx.link("/basket")) class="inline add" {
                (csrf_field(ctx))
                input type="hidden" name="action" value="add";
                input type="hidden" name="id" value=(id);
                input type="hidden" name="return" value=(ctx.link(&ctx.here));
                button type="submit" aria-label=(lang.f("basket.add_named", &[("title", title)])) { (lang.t("basket.add")) }
            }
        }
    }
}

/// A date-time from the API shown as a date.
pub fn date(value: &str) -> &str {
    value.get(..10).unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_keep_only_their_marks() {
        let html = highlighted("<em>Återtagande</em> av <b>IT</b> & <em>datorer").into_string();
        assert_eq!(
            html,
            "<mark>Återtagande</mark> av &lt;b&gt;IT&lt;/b&gt; &amp; <mark>datorer</mark>"
        );
        let escaped = highlighted("the contract&#x27;s <em>take-back</em> &amp; &lt;x&gt;");
        assert_eq!(
            escaped.into_string(),
            "the contract's <mark>take-back</mark> &amp; &lt;x&gt;"
        );
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        assert_eq!(excerpt("one two three", 9), "one two …");
        assert_eq!(excerpt("short", 9), "short");
    }
}
