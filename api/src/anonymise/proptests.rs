//! Property tests: planted identifiers never leak, and clean procurement text has no findings.

use entity::Language;
use proptest::{prelude::*, sample::select, strategy::Union};

use super::{ids, tests::CLEAN, *};

const LANGUAGES: [Language; 6] = [
    Language::Sv,
    Language::Nb,
    Language::Nn,
    Language::Da,
    Language::Fi,
    Language::En,
];

fn digit_string(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn digit_vec(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// A day that exists in every month.
fn date() -> impl Strategy<Value = (u32, u32)> {
    (1u32..=28, 1u32..=12)
}

/// Digits `n` wide.
fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9]{{{n}}}")).unwrap_or_else(|e| panic!("{e}"))
}

/// A planted identifier: the text, its kind, and the secret part that must disappear.
#[derive(Debug, Clone)]
struct Planted {
    text: String,
    kind: FindingKind,
    secret: String,
}

impl Planted {
    fn new(text: String, kind: FindingKind) -> Self {
        Self {
            secret: text.clone(),
            text,
            kind,
        }
    }
}

fn email() -> impl Strategy<Value = Planted> {
    let local = prop::collection::vec("[a-zåäö][a-z0-9åäö]{0,7}", 1..3);
    let separator = select(vec![".", "_", "-"]);
    let tag = prop::option::of("[a-z]{1,6}");
    let domain = prop::collection::vec("[a-z][a-z0-9]{1,8}", 1..4);
    let tld = select(vec!["se", "no", "dk", "fi", "com", "eu"]);
    (local, separator, tag, domain, tld).prop_map(|(local, sep, tag, domain, tld)| {
        let tag = tag.map(|t| format!("+{t}")).unwrap_or_default();
        let address = format!("{}{tag}@{}.{tld}", local.join(sep), domain.join("."));
        Planted::new(address, FindingKind::Email)
    })
}

fn phone() -> impl Strategy<Value = Planted> {
    let formats = select(vec![
        "07D-DDD DD DD",
        "07DDDDDDDD",
        "+46 7D DDD DD DD",
        "+46 (0)8 DDD DDD DD",
        "08-DDD DDD DD",
        "08 DDD DDD DD",
        "046-DD DD DD",
        "0NDD-DD DD DD",
        "+47 NN NN NN NN",
        "NN NN NN NN",
        "9DD DD DDD",
        "+45 NN NN NN NN",
        "NNDD DDDD",
        "040 DDD DDDD",
        "09 DDDD DDDD",
        "+358 40 DDD DDDD",
        "+358 9 DDDD DDDD",
        "040-DDDDDDD",
        "+44 20 DDDD DDDD",
        "0046 8 DDD DD DD",
        "+1 202 555 DDDD",
        "tlf. NDDDDDDD",
        "Mobil: NDDDDDDD",
    ]);
    (formats, digits(12), prop::collection::vec(3u32..=9, 4)).prop_map(
        |(format, random, nonzero)| {
            let mut random = random.chars();
            let mut nonzero = nonzero.into_iter();
            let text: String = format
                .chars()
                .map(|c| match c {
                    'D' => random.next().unwrap_or('5'),
                    'N' => nonzero
                        .next()
                        .and_then(|d| char::from_digit(d, 10))
                        .unwrap_or('5'),
                    c => c,
                })
                .collect();
            let secret = text
                .trim_start_matches(|c: char| c.is_alphabetic() || matches!(c, '.' | ':' | ' '));
            Planted {
                secret: secret.to_owned(),
                text,
                kind: FindingKind::Phone,
            }
        },
    )
}

fn swedish() -> impl Strategy<Value = Planted> {
    let form = select(vec![
        "YYMMDD-NNNC",
        "YYMMDD+NNNC",
        "CCYYMMDD-NNNC",
        "CCYYMMDDNNNC",
        "YYMMDDNNNC",
    ]);
    (date(), 1900u32..2026, 0u32..1000, any::<bool>(), form).prop_map(
        |((day, month), year, serial, samordning, form)| {
            let day = if samordning { day + 60 } else { day };
            let nine = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
            let check = (0..10)
                .find(|c| {
                    let mut all = digit_vec(&nine);
                    all.push(*c);
                    ids::luhn_valid(&all)
                })
                .unwrap_or(0);
            let text = form
                .replace("CC", &(year / 100).to_string())
                .replace("YYMMDD", &nine[..6])
                .replace("NNNC", &format!("{}{check}", &nine[6..]));
            Planted::new(text, FindingKind::PersonalIdentityNumber)
        },
    )
}

fn norwegian() -> impl Strategy<Value = Planted> {
    (date(), 0u32..100, 0u32..1000, any::<bool>(), any::<bool>()).prop_filter_map(
        "a control digit would be 10",
        |((day, month), year, serial, d_number, spaced)| {
            let day = if d_number { day + 40 } else { day };
            let nine = format!("{day:02}{month:02}{year:02}{serial:03}");
            let (k1, k2) = ids::norwegian_controls(&digit_vec(&nine))?;
            let separator = if spaced { " " } else { "" };
            let text = format!("{}{separator}{}{k1}{k2}", &nine[..6], &nine[6..]);
            Some(Planted::new(text, FindingKind::PersonalIdentityNumber))
        },
    )
}

fn danish() -> impl Strategy<Value = Planted> {
    (date(), 0u32..100, 0u32..10_000).prop_map(|((day, month), year, serial)| {
        let text = format!("{day:02}{month:02}{year:02}-{serial:04}");
        Planted::new(text, FindingKind::PersonalIdentityNumber)
    })
}

fn finnish() -> impl Strategy<Value = Planted> {
    let sign = select(vec![
        '+', '-', 'Y', 'X', 'W', 'V', 'U', 'A', 'B', 'C', 'D', 'E', 'F',
    ]);
    (date(), 0u32..100, 2u32..900, sign).prop_map(|((day, month), year, serial, sign)| {
        let birth = format!("{day:02}{month:02}{year:02}");
        let number: u64 = format!("{birth}{serial:03}").parse().unwrap_or(0);
        let text = format!("{birth}{sign}{serial:03}{}", ids::finnish_check(number));
        Planted::new(text, FindingKind::PersonalIdentityNumber)
    })
}

fn contact_name() -> impl Strategy<Value = Planted> {
    let role = select(vec![
        "Kontaktperson:",
        "kontaktperson är",
        "Handläggare",
        "upphandlare",
        "Kontaktperson för avtalet är",
        "saksbehandler",
        "Sakshandsamar:",
        "innkjøper",
        "sagsbehandler:",
        "Indkøber –",
        "yhteyshenkilö",
        "Yhteyshenkilönä toimii",
        "hankinta-asiantuntija",
        "contact person:",
        "Contact:",
        "case officer",
        "The procurement officer is",
    ]);
    let first = select(vec![
        "Anna",
        "Erik",
        "Kari",
        "Mette",
        "Liisa",
        "John",
        "Åsa",
        "Øystein",
        "Anna-Karin",
        "Päivi",
    ]);
    let last = select(vec![
        "Svensson",
        "Nordmann",
        "Frederiksen",
        "Virtanen",
        "Smith",
        "Öberg",
        "Ærø-Hansen",
        "O'Neil",
        "Hämäläinen",
    ]);
    (role, first, last).prop_map(|(role, first, last)| Planted {
        text: format!("{role} {first} {last}"),
        kind: FindingKind::ContactName,
        secret: format!("{first} {last}"),
    })
}

fn identifier() -> impl Strategy<Value = Planted> {
    prop_oneof![
        email(),
        phone(),
        swedish(),
        norwegian(),
        danish(),
        finnish(),
        contact_name()
    ]
}

/// Host words and the planted identifiers woven into them, with each secret's char range.
fn weave(
    hosts: &[&str],
    planted: &[(Planted, usize, &str, &str)],
) -> (String, Vec<(usize, usize)>) {
    let words: Vec<&str> = hosts.iter().flat_map(|h| h.split(' ')).collect();
    let mut at: Vec<(usize, usize)> = planted
        .iter()
        .enumerate()
        .map(|(i, p)| (p.1 % (words.len() + 1), i))
        .collect();
    at.sort_unstable();
    let mut text = String::new();
    let mut ranges = vec![(0, 0); planted.len()];
    let mut next = at.iter().peekable();
    for position in 0..=words.len() {
        while let Some(&(_, i)) = next.next_if(|(p, _)| *p == position) {
            let (planted, _, lead, trail) = &planted[i];
            text.push_str(lead);
            let end = text.chars().count() + planted.text.chars().count();
            ranges[i] = (end - planted.secret.chars().count(), end);
            text.push_str(&planted.text);
            text.push_str(trail);
            text.push(' ');
        }
        if let Some(word) = words.get(position) {
            text.push_str(word);
            text.push(' ');
        }
    }
    (text, ranges)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn planted_identifiers_never_leak(
        planted in prop::collection::vec(
            (
                identifier(),
                any::<usize>(),
                // Never glued to a neighbouring number or cue word: "Generation 10 22 33 44 55"
                // and "CVR 22 33 44 55" are not phone numbers.
                select(vec!["Se ", "och ", "Uppgift: ", "Ring ", "tel. ", "ja ", "or "]),
                select(vec![".", ",", ";", " och", " and"]),
            ),
            1..4,
        ),
        hosts in prop::collection::vec(select(CLEAN.to_vec()), 1..4),
        language in select(LANGUAGES.to_vec()),
    ) {
        let (text, ranges) = weave(&hosts, &planted);
        let out = anonymise(&text, language, &[]);
        let findings = find(&text, language, &[]);
        for ((planted, ..), (start, end)) in planted.iter().zip(ranges) {
            prop_assert!(!out.contains(&planted.secret), "{planted:?} leaked: {out}");
            let secret_digits = digit_string(&planted.secret);
            if secret_digits.len() >= 6 {
                prop_assert!(
                    !digit_string(&out).contains(&secret_digits),
                    "{planted:?} leaked: {out}"
                );
            }
            // A finding of the planted kind covers the secret.
            let kinds: &[FindingKind] = if planted.kind == FindingKind::Phone {
                &[FindingKind::Phone, FindingKind::PersonalIdentityNumber]
            } else {
                &[planted.kind]
            };
            prop_assert!(
                findings.iter().any(|f| kinds.contains(&f.kind) && f.start <= start && end <= f.end),
                "{planted:?} not found at {start}..{end} in {text:?}: {findings:?}"
            );
            let placeholders: Vec<&str> = kinds.iter().map(|k| placeholder(*k, language)).collect();
            prop_assert!(placeholders.iter().any(|p| out.contains(p)), "{placeholders:?} not in {out}");
        }
        // Anonymising again changes nothing.
        prop_assert_eq!(anonymise(&out, language, &[]), out);
    }

    #[test]
    fn deny_listed_terms_never_leak(
        terms in prop::collection::vec(
            (
                select(vec!["Ragnhild", "Birgitta Holm", "Åsa-Lena", "Projekt Örn", "Kari", "Nordby AS"]),
                select(vec![0u8, 1, 2, 3]),
            ),
            1..4,
        ),
        hosts in prop::collection::vec(select(CLEAN.to_vec()), 1..3),
        positions in prop::collection::vec(any::<usize>(), 4),
        language in select(LANGUAGES.to_vec()),
    ) {
        let deny: Vec<String> = terms.iter().map(|(t, _)| format!(" {t} ")).collect();
        let planted: Vec<(Planted, usize, &str, &str)> = terms
            .iter()
            .zip(&positions)
            .map(|((term, case), &at)| {
                let written = match case {
                    0 => term.to_string(),
                    1 => term.to_uppercase(),
                    2 => term.to_lowercase(),
                    _ => term.replace(' ', "  "),
                };
                (Planted::new(written, FindingKind::DenyListed), at, "", ",")
            })
            .collect();
        // Longer words that merely start with a term survive.
        let survivors = " Ragnhildsgatan, Karinsberg, Nordbyen";
        let (text, _) = weave(&hosts, &planted);
        let out = anonymise(&format!("{text}{survivors}"), language, &deny);
        let Some(rest) = out.strip_suffix(survivors) else {
            return Err(TestCaseError::fail(format!("survivors replaced: {out}")));
        };
        for (planted, ..) in &planted {
            prop_assert!(!rest.contains(&planted.text), "{planted:?} leaked: {out}");
        }
        // A term right after a role word is found as a contact name instead.
        let replaced = [FindingKind::DenyListed, FindingKind::ContactName]
            .map(|kind| placeholder(kind, language));
        prop_assert!(replaced.iter().any(|p| rest.contains(p)), "{out}");
        prop_assert_eq!(anonymise(&out, language, &deny), out);
    }

    #[test]
    fn clean_procurement_texts_have_no_findings(
        fragments in prop::collection::vec(clean_fragment(), 1..10),
        joints in prop::collection::vec(select(vec![". ", ", ", "; ", " och ", " og ", " and ", " ja ", "\n"]), 10),
        language in select(LANGUAGES.to_vec()),
    ) {
        let mut text = String::from("Krav:");
        for (fragment, joint) in fragments.iter().zip(joints.iter().cycle()) {
            text.push(' ');
            text.push_str(fragment);
            text.push_str(joint);
        }
        let findings = find(&text, language, &[]);
        prop_assert!(findings.is_empty(), "{findings:?} in {text:?}");
        prop_assert_eq!(anonymise(&text, language, &[]), text);
    }
}

/// Real CPV codes with their check digits.
const CPV: [&str; 16] = [
    "30213100-6",
    "30213000-5",
    "30200000-1",
    "32250000-0",
    "09310000-5",
    "48000000-8",
    "39130000-2",
    "90910000-9",
    "34144900-7",
    "15000000-8",
    "33141000-0",
    "45000000-7",
    "79000000-4",
    "72000000-5",
    "09134100-8",
    "03300000-2",
];

const LABELS: [&str; 12] = [
    "TCO Certified Generation 10",
    "TCO Certified Generation 9",
    "TCO Certified Edge",
    "EU Ecolabel",
    "Blue Angel DE-UZ 78",
    "Blauer Engel DE-UZ 219",
    "EPEAT Gold",
    "EPEAT Silver",
    "Svanen",
    "Nordic Swan Ecolabel",
    "Energy Star 8.0",
    "80 PLUS Gold",
];

const MONTHS: [&str; 12] = [
    "januari",
    "februar",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "syyskuuta",
    "oktober",
    "november",
    "December",
];

/// A Swedish organisation number: Luhn-valid, with a "month" of 20 or more.
fn swedish_org_number() -> impl Strategy<Value = String> {
    (1u32..10, 0u32..10, 2u32..10, digits(6), any::<bool>()).prop_map(|(a, b, c, rest, dash)| {
        let nine = format!("{a}{b}{c}{}", &rest);
        let check = (0..10)
            .find(|d| {
                let mut all = digit_vec(&nine);
                all.push(*d);
                ids::luhn_valid(&all)
            })
            .unwrap_or(0);
        let dash = if dash { "-" } else { "" };
        format!("Org.nr {}{dash}{}{check}", &nine[..6], &nine[6..])
    })
}

fn clean_fragment() -> BoxedStrategy<String> {
    let year = 1990u32..2035;
    Union::new(vec![
        select(CPV.to_vec())
            .prop_map(|c| format!("CPV {c}"))
            .boxed(),
        prop::collection::vec(select(CPV.to_vec()), 2..5)
            .prop_map(|c| c.join(", "))
            .boxed(),
        (
            select(vec![
                "ISO 14001",
                "ISO 45001",
                "ISO 9001",
                "ISO 50001",
                "EN 50581",
                "EN 301 549",
                "IEC 62368-1",
                "IEC 62474",
                "SS-EN ISO 14024",
            ]),
            prop::option::of(year.clone()),
        )
            .prop_map(|(s, y)| y.map_or(s.to_owned(), |y| format!("{s}:{y}")))
            .boxed(),
        swedish_org_number().boxed(),
        ("[89][0-9]{2}", "[0-9]{3}", "[0-9]{3}", any::<bool>())
            .prop_map(|(a, b, c, spaced)| {
                if spaced {
                    format!("Organisasjonsnummer {a} {b} {c}")
                } else {
                    format!("org.nr. {a}{b}{c}")
                }
            })
            .boxed(),
        (
            "[1-9][0-9]",
            "[0-9]{2}",
            "[0-9]{2}",
            "[0-9]{2}",
            select(vec!["CVR", "CVR-nr.", "CVR nr.", "VAT no.", "momsnr."]),
            any::<bool>(),
        )
            .prop_map(|(a, b, c, d, cue, spaced)| {
                if spaced {
                    format!("{cue} {a} {b} {c} {d}")
                } else {
                    format!("{cue} {a}{b}{c}{d}")
                }
            })
            .boxed(),
        ("[0-9]{7}", "[0-9]")
            .prop_map(|(a, b)| format!("Y-tunnus {a}-{b}"))
            .boxed(),
        ("[1-9][0-9]{7}").prop_map(|n| format!("CVR {n}")).boxed(),
        (year.clone(), date(), select(vec![0usize, 1, 2, 3, 4, 5, 6]))
            .prop_map(|(y, (d, m), f)| match f {
                0 => format!("{y}-{m:02}-{d:02}"),
                1 => format!("{d}.{m}.{y}"),
                2 => format!("{d:02}.{m:02}.{y}"),
                3 => format!("{d}/{m}/{y}"),
                4 => format!("{d} {} {y}", MONTHS[m as usize - 1]),
                5 => format!("{y}-{m:02}"),
                _ => format!("{d:02}-{m:02}-{y}"),
            })
            .boxed(),
        (year.clone(), 1u32..5)
            .prop_map(|(y, n)| format!("{y}–{}", y + n))
            .boxed(),
        year.prop_map(|y| format!("år {y}")).boxed(),
        (0u32..=100, any::<bool>())
            .prop_map(|(p, space)| {
                if space {
                    format!("{p} %")
                } else {
                    format!("{p}%")
                }
            })
            .boxed(),
        (
            1u32..1000,
            select(vec!["kr", "SEK", "NOK", "DKK", "€", "euro", "EUR"]),
        )
            .prop_map(|(n, c)| format!("{n} 000 {c}"))
            .boxed(),
        (1u32..100, 0u32..1000, select(vec!["SEK", "kr", "NOK", "€"]))
            .prop_map(|(a, b, c)| format!("{a} {b:03} 000 {c}"))
            .boxed(),
        (
            1u32..10,
            0u32..10,
            select(vec!["MNOK", "MSEK", "MEUR", "MDKK"]),
        )
            .prop_map(|(a, b, c)| format!("{a},{b} {c}"))
            .boxed(),
        (1u32..1000).prop_map(|n| format!("EUR {n} 000")).boxed(),
        select(vec![29u32, 87, 98, 100, 105, 111, 138, 182])
            .prop_map(|n| format!("ILO {n}"))
            .boxed(),
        select(vec![29u32, 87, 98, 100, 105, 111, 138, 182])
            .prop_map(|n| format!("ILO-konvention nr {n}"))
            .boxed(),
        select(LABELS.to_vec()).prop_map(str::to_owned).boxed(),
        (
            1u32..50,
            select(vec!["år", "years", "hours", "timmar", "vuotta", "st", "kg"]),
        )
            .prop_map(|(n, u)| format!("minst {n} {u}"))
            .boxed(),
        (0u32..10, 0u32..10)
            .prop_map(|(a, b)| format!("IP{a}{b}"))
            .boxed(),
        select(vec![
            "USB-C",
            "Contact the supplier",
            "Kontaktperson ska anges i anbudet",
            "Leverantören ska utse en kontaktperson för hållbarhetsfrågor",
            "Yhteyshenkilö ilmoitetaan tarjouksessa",
            "Saksbehandler skal oppgis",
            "Kontaktperson: Leverandøren",
        ])
        .prop_map(str::to_owned)
        .boxed(),
    ])
    .boxed()
}
