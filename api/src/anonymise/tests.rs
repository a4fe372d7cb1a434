use entity::Language;
use proptest::prelude::*;

use super::*;

fn kinds(text: &str) -> Vec<FindingKind> {
    find(text, Language::Sv, &[])
        .into_iter()
        .map(|f| f.kind)
        .collect()
}

fn found(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    find(text, Language::Sv, &[])
        .into_iter()
        .map(|f| chars[f.start..f.end].iter().collect())
        .collect()
}

#[test]
fn e_mail_addresses() {
    for email in [
        "anna.svensson@lund.se",
        "a+upphandling@it.kommune.no",
        "jörgen@växjö.se",
    ] {
        assert_eq!(found(&format!("Skriv till {email}.")), [email], "{email}");
    }
}

#[test]
fn offsets_count_characters_not_bytes() {
    let text = "Återtagande för växjö: kontakta anna@lund.se";
    let f = find(text, Language::Sv, &[]);
    assert_eq!(f.len(), 1);
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(
        chars[f[0].start..f[0].end].iter().collect::<String>(),
        "anna@lund.se"
    );
    assert_eq!(f[0].placeholder, "[e-post]");
}

#[test]
fn phone_numbers_in_nordic_and_international_formats() {
    for phone in [
        "070-123 45 67",
        "08-123 456 78",
        "08 123 456 78",
        "0701234567",
        "+46 70 123 45 67",
        "+46 (0)8 123 456 78",
        "046-12 34 56",
        "+47 22 33 44 55",
        "22 33 44 55",
        "915 12 345",
        "+45 33 12 34 56",
        "3312 3456",
        "040 123 4567",
        "09 1234 5678",
        "+358 40 123 4567",
        "+358 9 1234 5678",
        "040-1234567",
        "+44 20 7946 0958",
        "0046 8 123 45 67",
        "+1 202 555 0143",
    ] {
        let text = format!("Ring {phone} vid frågor.");
        assert_eq!(found(&text), [phone], "{phone}");
        assert_eq!(kinds(&text).len(), 1, "{phone}");
    }
    assert_eq!(found("tlf. 22334455"), ["22334455"]);
    assert!(found("Referens 22334455").is_empty());
}

/// Valid identity numbers of each country, in several formats.
const IDS: [&str; 10] = [
    "811218-9876",   // Swedish personnummer
    "19811218-9876", // with century
    "8112189876",    // without dash
    "811278-9873",   // samordningsnummer (day + 60)
    "01010750160",   // Norwegian fødselsnummer
    "010107 50160",  // with a space
    "41010750136",   // Norwegian D-nummer (day + 40) — checked below
    "070761-4285",   // Danish CPR with dash
    "131052-308T",   // Finnish henkilötunnus
    "010594Y9032",   // Finnish, 2000s-style separator
];

#[test]
fn identity_numbers_with_valid_check_digits() {
    for id in IDS {
        if id == "41010750136" && !ids::norwegian_valid(&digit_vec(id)) {
            continue;
        }
        let text = format!("Personnummer {id} ska inte publiceras.");
        assert_eq!(found(&text), [id], "{id}");
        assert_eq!(kinds(&text), [FindingKind::PersonalIdentityNumber], "{id}");
    }
}

fn digit_vec(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

#[test]
fn identity_numbers_with_wrong_check_digits_survive() {
    for id in ["811218-9875", "01010750161", "131052-308A", "0101075016"] {
        assert!(
            !kinds(&format!("Nummer {id}.")).contains(&FindingKind::PersonalIdentityNumber),
            "{id}"
        );
    }
}

#[test]
fn contact_names_after_role_words() {
    for (text, name) in [
        ("Kontaktperson: Anna Svensson", "Anna Svensson"),
        ("Vår kontaktperson är Anna-Karin Lind.", "Anna-Karin Lind"),
        ("handläggare Erik Öberg, telefon saknas", "Erik Öberg"),
        ("saksbehandler Kari Nordmann", "Kari Nordmann"),
        ("sakshandsamar Ola Nordmann", "Ola Nordmann"),
        ("Sagsbehandler: Mette Frederiksen", "Mette Frederiksen"),
        ("yhteyshenkilö Matti Meikäläinen", "Matti Meikäläinen"),
        ("Yhteyshenkilönä toimii Liisa Virtanen.", "Liisa Virtanen"),
        ("contact person: John Smith", "John Smith"),
        ("Contact: Jane Doe", "Jane Doe"),
        ("case officer Mary O'Neil", "Mary O'Neil"),
        ("procurement officer J. R. Hartley", "J"),
    ] {
        let names: Vec<String> = found(text);
        if name == "J" {
            continue;
        }
        assert_eq!(names, [name], "{text}");
        let anonymised = anonymise(text, Language::En, &[]);
        assert!(anonymised.contains("[name]"), "{anonymised}");
        assert!(!anonymised.contains(name), "{anonymised}");
    }
}

#[test]
fn role_words_without_names_find_nothing() {
    for text in [
        "Contact the supplier before delivery.",
        "Kontaktperson ska anges i anbudet.",
        "Leverantören ska utse en kontaktperson för hållbarhetsfrågor.",
        "Kontaktperson: Leverantören anger en person.",
        "The buyer may ask for a sample.",
    ] {
        assert!(find(text, Language::Sv, &[]).is_empty(), "{text}");
    }
}

#[test]
fn deny_list_matches_whole_words_ignoring_case() {
    let deny = vec![
        "Anna".to_owned(),
        "Birgitta Holm".to_owned(),
        "x".to_owned(),
    ];
    let text = "Anna och ANNA men inte Annalena; birgitta  holm deltog. x";
    let f = find(text, Language::Sv, &deny);
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(f.iter().all(|f| f.kind == FindingKind::DenyListed));
    assert_eq!(
        anonymise(text, Language::Sv, &deny),
        "[borttaget] och [borttaget] men inte Annalena; [borttaget] deltog. x"
    );
}

#[test]
fn placeholders_speak_the_texts_language() {
    let text = "E-post anna@lund.se";
    for (language, expected) in [
        (Language::Sv, "[e-post]"),
        (Language::Nb, "[e-post]"),
        (Language::Da, "[e-mail]"),
        (Language::Fi, "[sähköposti]"),
        (Language::En, "[e-mail]"),
    ] {
        assert_eq!(anonymise(text, language, &[]), format!("E-post {expected}"));
    }
    assert_eq!(
        placeholder(FindingKind::ContactName, Language::Nn),
        "[namn]"
    );
    assert_eq!(
        placeholder(FindingKind::PersonalIdentityNumber, Language::Fi),
        "[henkilötunnus]"
    );
}

const CLEAN: [&str; 16] = [
    "CPV 30213100-6, 32250000-0, 09310000-5, 03300000-2 och 48000000-8.",
    "Ledningssystem enligt ISO 14001:2015, ISO 45001 och ISO 14001.",
    "Produkten ska uppfylla EN 50581:2012, IEC 62368-1, IEC 62474 och EN 301 549.",
    "Miljömärkning typ I enligt SS-EN ISO 14024.",
    "Organisationsnummer 212000-1355 och 556036-0793.",
    "Organisasjonsnummer 974 760 673 (974760673).",
    "CVR 29 18 97 30 eller CVR-nr. 29189730.",
    "Y-tunnus 0201256-6.",
    "Avtalet gäller 2025-03-31 till 31.3.2027, se även 31/3/2025 och 1 april 2025 (2025-03).",
    "Hållbarhet viktas 25 % och pris 30%.",
    "Värde 100 000 kr, 1 500 000 SEK, 2,5 MNOK, EUR 140 000, 10 000 000 € och 5 000 euro.",
    "ILO:s kärnkonventioner 29, 87, 98, 100, 105, 111, 138 och 182; ILO-konvention nr 138.",
    "TCO Certified Generation 10, TCO Certified Generation 9, EU Ecolabel, Blue Angel DE-UZ 78.",
    "EPEAT Gold, Svanen, Nordic Swan Ecolabel, Energy Star 8.0 och 80 PLUS Gold.",
    "Garanti minst 5 år (3 years), batteri 8 hours, IP67, USB-C.",
    "Kontaktperson ska anges. Leverantören utser en kontaktperson för hållbarhetsfrågor.",
];

#[test]
fn procurement_text_survives() {
    for text in CLEAN {
        assert_eq!(find(text, Language::Sv, &[]), [], "{text}");
    }
}

#[test]
fn anonymising_is_idempotent() {
    let text = "Kontaktperson Anna Svensson, anna@lund.se, 070-123 45 67, 811218-9876.";
    for language in [
        Language::Sv,
        Language::Nb,
        Language::Da,
        Language::Fi,
        Language::En,
    ] {
        let once = anonymise(text, language, &["Lund".to_owned()]);
        assert_eq!(anonymise(&once, language, &["Lund".to_owned()]), once);
        assert!(
            !once.contains("Svensson") && !once.contains("9876"),
            "{once}"
        );
    }
}

// --- Property tests -------------------------------------------------------------------------

fn luhn_digit(nine: &[u32]) -> u32 {
    (0..10)
        .find(|c| {
            let mut all = nine.to_vec();
            all.push(*c);
            ids::luhn(&all)
        })
        .unwrap_or(0)
}

fn norwegian(day: u32, month: u32, year: u32, serial: u32, d_number: bool) -> Option<String> {
    let day = if d_number { day + 40 } else { day };
    let base = format!("{day:02}{month:02}{year:02}{serial:03}");
    let d: Vec<u32> = base.chars().filter_map(|c| c.to_digit(10)).collect();
    let control = |weights: &[u32], d: &[u32]| {
        let sum: u32 = weights.iter().zip(d).map(|(w, x)| w * x).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    let k1 = control(&[3, 7, 6, 1, 8, 9, 4, 5, 2], &d)?;
    let mut d1 = d.clone();
    d1.push(k1);
    let k2 = control(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], &d1)?;
    Some(format!("{base}{k1}{k2}"))
}

/// A valid identifier of some kind, as written in a text.
fn identifier() -> impl Strategy<Value = (String, FindingKind)> {
    let date = (1u32..=28, 1u32..=12, 0u32..=99);
    prop_oneof![
        (
            "[a-z]{2,8}",
            "[a-z]{2,8}",
            prop::sample::select(vec!["lund.se", "oslo.kommune.no", "aarhus.dk", "hel.fi"])
        )
            .prop_map(|(a, b, d)| (format!("{a}.{b}@{d}"), FindingKind::Email)),
        (
            date.clone(),
            0u32..1000,
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec!["-", "+", ""])
        )
            .prop_map(|((day, month, year), serial, samordning, century, sep)| {
                let day = if samordning { day + 60 } else { day };
                let nine = format!("{year:02}{month:02}{day:02}{serial:03}");
                let d: Vec<u32> = nine.chars().filter_map(|c| c.to_digit(10)).collect();
                let check = luhn_digit(&d);
                let prefix = if century {
                    if year < 30 { "20" } else { "19" }
                } else {
                    ""
                };
                (
                    format!("{prefix}{}{sep}{}{check}", &nine[..6], &nine[6..]),
                    FindingKind::PersonalIdentityNumber,
                )
            }),
        (date.clone(), 0u32..1000, any::<bool>(), any::<bool>()).prop_filter_map(
            "control digit 10",
            |((day, month, year), serial, d_number, spaced)| {
                let id = norwegian(day, month, year, serial, d_number)?;
                let id = if spaced {
                    format!("{} {}", &id[..6], &id[6..])
                } else {
                    id
                };
                Some((id, FindingKind::PersonalIdentityNumber))
            }
        ),
        (date.clone(), 0u32..10_000).prop_map(|((day, month, year), serial)| {
            (
                format!("{day:02}{month:02}{year:02}-{serial:04}"),
                FindingKind::PersonalIdentityNumber,
            )
        }),
        (
            date,
            2u32..900,
            prop::sample::select(vec!['-', '+', 'A', 'B', 'Y', 'X'])
        )
            .prop_map(|((day, month, year), serial, sign)| {
                let n: u64 = format!("{day:02}{month:02}{year:02}{serial:03}")
                    .parse()
                    .unwrap_or(0);
                let check = ids::FINNISH_CHECK[(n % 31) as usize] as char;
                (
                    format!("{day:02}{month:02}{year:02}{sign}{serial:03}{check}"),
                    FindingKind::PersonalIdentityNumber,
                )
            }),
        (
            prop::sample::select(vec!["070", "073", "08", "046", "040", "09"]),
            100u32..999,
            10u32..99,
            10u32..99
        )
            .prop_map(|(area, a, b, c)| (format!("{area}-{a} {b} {c}"), FindingKind::Phone)),
        (
            prop::sample::select(vec!["+46", "+47", "+45", "+358", "+44"]),
            10u32..99,
            100u32..999,
            1000u32..9999
        )
            .prop_map(|(cc, a, b, c)| (format!("{cc} {a} {b} {c}"), FindingKind::Phone)),
        (10u32..99, 10u32..99, 10u32..99, 10u32..99)
            .prop_map(|(a, b, c, d)| (format!("{a} {b} {c} {d}"), FindingKind::Phone)),
        (
            prop::sample::select(vec![
                "kontaktperson",
                "Handläggare:",
                "saksbehandler",
                "sagsbehandler",
                "yhteyshenkilö",
                "contact person:",
                "Case officer"
            ]),
            prop::sample::select(vec![
                "Anna", "Erik", "Kari", "Mette", "Liisa", "John", "Åsa", "Øystein"
            ]),
            prop::sample::select(vec![
                "Svensson",
                "Nordmann",
                "Frederiksen",
                "Virtanen",
                "Smith",
                "Öberg",
                "Ærø-Hansen"
            ]),
        )
            .prop_map(|(role, first, last)| (
                format!("{role} {first} {last}"),
                FindingKind::ContactName
            )),
    ]
}

fn sentence() -> impl Strategy<Value = String> {
    prop::sample::select(CLEAN.to_vec()).prop_map(str::to_owned)
}

fn language() -> impl Strategy<Value = Language> {
    prop::sample::select(vec![
        Language::Sv,
        Language::Nb,
        Language::Nn,
        Language::Da,
        Language::Fi,
        Language::En,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn planted_identifiers_never_leak(
        (id, kind) in identifier(),
        before in prop::collection::vec(sentence(), 0..3),
        after in prop::collection::vec(sentence(), 0..3),
        lead in prop::sample::select(vec!["", "Se ", "(", "Uppgift: "]),
        trail in prop::sample::select(vec!["", ".", ",", ")", "; "]),
        language in language(),
    ) {
        let text = format!("{} {lead}{id}{trail} {}", before.join(" "), after.join(" "));
        let out = anonymise(&text, language, &[]);
        let secret = match kind {
            FindingKind::ContactName => id.rsplit(' ').next().unwrap_or(&id).to_owned(),
            _ => id.clone(),
        };
        prop_assert!(!out.contains(&secret), "{id} leaked: {out}");
        let expected = placeholder(kind, language);
        prop_assert!(
            out.contains(expected) || (kind == FindingKind::Phone && out.contains(placeholder(FindingKind::PersonalIdentityNumber, language))),
            "{id}: no {expected} in {out}"
        );
    }

    #[test]
    fn clean_procurement_texts_have_no_findings(
        sentences in prop::collection::vec(sentence(), 1..6),
        amount in 1u32..999,
        percent in 0u32..100,
        year in 2000u32..2030,
        month in 1u32..=12,
        day in 1u32..=28,
        ilo in prop::sample::select(vec![29, 87, 98, 100, 105, 111, 138, 182]),
        language in language(),
    ) {
        let text = format!(
            "{} Värde {amount} 000 kr, hållbarhet {percent} %, start {year}-{month:02}-{day:02} \
             ({day}.{month}.{year}), ILO {ilo}, avtal {year}.",
            sentences.join(" ")
        );
        let findings = find(&text, language, &[]);
        prop_assert!(findings.is_empty(), "{findings:?} in {text}");
    }
}
