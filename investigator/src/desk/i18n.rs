//! The desk's two languages. Every text of the desk is written in both, side by side
//! (`lang.t("English", "Nederlands")`), so neither can be forgotten. What the library
//! reports (the reasons a check failed) stays in its own words, in English.

use meldpunt_crypto::{CaseStatus, Category, Day};

/// A language of the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Dutch.
    Nl,
}

impl Lang {
    /// The text in this language.
    pub fn t<'a>(self, en: &'a str, nl: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Nl => nl,
        }
    }

    /// The language's code (`en`, `nl`).
    pub fn code(self) -> &'static str {
        self.t("en", "nl")
    }

    /// A language by its code.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => None,
        }
    }

    /// The browser's preference (`Accept-Language`), English unless Dutch comes first.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let first = header
            .and_then(|h| h.split(',').next())
            .map(|l| l.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if first.starts_with("nl") {
            Lang::Nl
        } else {
            Lang::En
        }
    }

    /// The other language.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Nl,
            Lang::Nl => Lang::En,
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        self.t("English", "Nederlands")
    }

    /// A case status in words.
    pub fn status(self, status: CaseStatus) -> &'static str {
        match status {
            CaseStatus::Received => self.t("received", "ontvangen"),
            CaseStatus::Acknowledged => self.t("acknowledged", "bevestigd"),
            CaseStatus::Investigating => self.t("investigating", "in onderzoek"),
            CaseStatus::Closed => self.t("closed", "afgesloten"),
        }
    }

    /// A category in words.
    pub fn category(self, category: Category) -> &'static str {
        match category {
            Category::SystemLookup => self.t(
                "looked in systems without need or right",
                "zonder noodzaak of recht in systemen gekeken",
            ),
            Category::InformationDisclosure => self.t(
                "gave information to people not entitled to it",
                "informatie gegeven aan wie er geen recht op heeft",
            ),
            Category::Fraud => self.t("fraud", "fraude"),
            Category::PropertyMisuse => self.t(
                "theft, waste or misuse of property",
                "diefstal, verspilling of misbruik van eigendommen",
            ),
            Category::ConflictOfInterest => self.t(
                "conflicting interests or side activities",
                "belangenverstrengeling of nevenwerkzaamheden",
            ),
            Category::UndesirableBehaviour => self.t("undesirable behaviour", "ongewenst gedrag"),
            _ => self.t("other", "anders"),
        }
    }

    /// Days left until `by` as of `today`, in words.
    pub fn days_left(self, today: Day, by: Day) -> String {
        let days = today.days_until(by);
        match (self, days) {
            (Lang::En, d) if d < 0 => format!("overdue {} day(s) ({by})", -d),
            (Lang::Nl, d) if d < 0 => format!("{} dag(en) te laat ({by})", -d),
            (Lang::En, 0) => format!("due today ({by})"),
            (Lang::Nl, 0) => format!("vandaag ({by})"),
            (Lang::En, d) => format!("{d} day(s) left ({by})"),
            (Lang::Nl, d) => format!("nog {d} dag(en) ({by})"),
        }
    }
}

/// A template for a message to the reporter.
pub struct Template {
    /// Its id in forms (`acknowledge-en`, …).
    pub id: &'static str,
    /// What the button says, in the desk's language.
    pub label: (&'static str, &'static str),
    /// The status to announce with it, if any.
    pub status: Option<CaseStatus>,
    /// The text; `{received}` is the day the report arrived.
    pub text: &'static str,
}

/// The templates: the acknowledgement (within 7 days) and the feedback (within three
/// months), each in Dutch and in English, whatever the desk's own language.
pub const TEMPLATES: [Template; 4] = [
    Template {
        id: "acknowledge-nl",
        label: (
            "Acknowledgement (Dutch)",
            "Ontvangstbevestiging (Nederlands)",
        ),
        status: Some(CaseStatus::Acknowledged),
        text: "Beste melder,\n\n\
Dank u voor uw melding. Wij bevestigen dat wij die op {received} hebben ontvangen.\n\n\
Wij behandelen uw melding vertrouwelijk en laten u binnen drie maanden weten wat wij \
ermee doen. Als wij vragen hebben, stellen wij die hier. Kom daarom af en toe terug met \
uw terugkeercode.\n\n\
Met vriendelijke groet,\nBureau Integriteit",
    },
    Template {
        id: "acknowledge-en",
        label: ("Acknowledgement (English)", "Ontvangstbevestiging (Engels)"),
        status: Some(CaseStatus::Acknowledged),
        text: "Dear reporter,\n\n\
Thank you for your report. We confirm that we received it on {received}.\n\n\
We treat your report confidentially and will let you know within three months what we \
are doing about it. If we have questions, we will ask them here, so please come back now \
and then with your return code.\n\n\
Kind regards,\nIntegrity Bureau",
    },
    Template {
        id: "feedback-nl",
        label: ("Feedback (Dutch)", "Terugkoppeling (Nederlands)"),
        status: None,
        text: "Beste melder,\n\n\
Zoals beloofd laten wij u weten hoe het staat met uw melding van {received}.\n\n\
[Wat is er gedaan, wat is er gevonden, en wat gebeurt er nog?]\n\n\
Wij kunnen niet alles vertellen, bijvoorbeeld om de privacy van anderen te beschermen. \
Hebt u nog vragen of aanvullingen, dan kunt u hier reageren.\n\n\
Met vriendelijke groet,\nBureau Integriteit",
    },
    Template {
        id: "feedback-en",
        label: ("Feedback (English)", "Terugkoppeling (Engels)"),
        status: None,
        text: "Dear reporter,\n\n\
As promised, here is where your report of {received} stands.\n\n\
[What has been done, what was found, and what happens next?]\n\n\
We cannot tell you everything, for instance to protect the privacy of others. If you \
have questions or more to add, you can answer here.\n\n\
Kind regards,\nIntegrity Bureau",
    },
];

/// A template by its id.
pub fn template(id: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_deadlines_in_words() {
        assert_eq!(
            Lang::from_accept_language(Some("nl-NL,nl;q=0.9,en")),
            Lang::Nl
        );
        assert_eq!(Lang::from_accept_language(Some("en-US,nl;q=0.5")), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(Lang::parse("nl"), Some(Lang::Nl));
        assert_eq!(Lang::parse("de"), None);
        let today = Day::parse("2026-11-23").unwrap();
        let by = Day::parse("2026-11-20").unwrap();
        assert_eq!(
            Lang::En.days_left(today, by),
            "overdue 3 day(s) (2026-11-20)"
        );
        assert_eq!(
            Lang::Nl.days_left(today, by),
            "3 dag(en) te laat (2026-11-20)"
        );
        assert_eq!(Lang::Nl.days_left(by, today), "nog 3 dag(en) (2026-11-23)");
        assert_eq!(Lang::En.days_left(today, today), "due today (2026-11-23)");
    }

    #[test]
    fn every_template_names_the_day_of_receipt() {
        for t in &TEMPLATES {
            assert!(t.text.contains("{received}"), "{}", t.id);
            assert_eq!(template(t.id).map(|x| x.id), Some(t.id));
        }
        assert!(template("nope").is_none());
    }
}
