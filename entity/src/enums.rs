//! The catalogue's taxonomies. Each enum is stored as its code (the eForms code where one
//! exists) and exposed in GraphQL as the SCREAMING_SNAKE_CASE variant name.

use sea_orm::entity::prelude::*;

/// Declares a taxonomy enum stored as text, usable in GraphQL and (de)serialisable by name.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum,
            async_graphql::Enum, serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $code)] $variant,)+
        }
    };
}

code_enum! {
    /// What kind of body an organisation is.
    OrganizationKind {
        Municipality = "municipality",
        Region = "region",
        Agency = "agency",
        Other = "other",
    }
}

code_enum! {
    /// Nordic countries (ISO 3166-1 alpha-2).
    Country {
        Se = "SE",
        No = "NO",
        Dk = "DK",
        Fi = "FI",
        Is = "IS",
    }
}

code_enum! {
    /// Publication state of a clause, template or tender result.
    PublicationStatus {
        /// Never published; visible to the owning organisation only.
        Draft = "draft",
        /// At least one version is published and the latest one is current.
        Published = "published",
        /// Taken out of use; the history stays readable, with the reason.
        Withdrawn = "withdrawn",
    }
}

code_enum! {
    /// Where in a tender a clause is used (the OCDS sustainability strategy names).
    ClauseKind {
        SelectionCriterion = "SELECTION_CRITERION",
        TechnicalSpecification = "TECHNICAL_SPECIFICATION",
        AwardCriterion = "AWARD_CRITERION",
        ContractPerformanceClause = "CONTRACT_PERFORMANCE_CLAUSE",
    }
}

code_enum! {
    /// Ambition level (Swedish bas / avancerad / spjutspets; EU GPP core / comprehensive).
    AmbitionLevel {
        Core = "CORE",
        Advanced = "ADVANCED",
        Spearhead = "SPEARHEAD",
    }
}

code_enum! {
    /// Environmental impact (eForms BT-774).
    EnvironmentalImpact {
        /// Biodiversity and ecosystems.
        BiodivEco = "biodiv-eco",
        /// Transition to a circular economy.
        CircEcon = "circ-econ",
        /// Climate change adaptation.
        ClimAdapt = "clim-adapt",
        /// Climate change mitigation.
        ClimMitig = "clim-mitig",
        /// Pollution prevention and control.
        PolluPrev = "pollu-prev",
        /// Water and marine resources.
        WaterMar = "water-mar",
        Other = "other",
    }
}

code_enum! {
    /// Social objective (eForms BT-775).
    SocialObjective {
        /// Accessibility for all.
        AccAll = "acc-all",
        /// Ethnic equality.
        EtEq = "et-eq",
        /// Gender equality.
        GenEq = "gen-eq",
        /// Human rights in the supply chain.
        HumRight = "hum-right",
        /// Employment opportunities for the long-term unemployed and disadvantaged.
        Opp = "opp",
        /// Fair working conditions.
        WorkCond = "work-cond",
        Other = "other",
    }
}

code_enum! {
    /// Where a criterion comes from (eForms BT-805).
    CriteriaOrigin {
        Eu = "eu",
        National = "national",
        Other = "other",
    }
}

code_enum! {
    /// Whether a clause applies to new products, refurbished ones or both.
    Applicability {
        New = "new",
        Refurbished = "refurbished",
        Both = "both",
    }
}

code_enum! {
    /// Languages clauses are written in.
    Language {
        /// Swedish.
        Sv = "sv",
        /// Norwegian Bokmål.
        Nb = "nb",
        /// Norwegian Nynorsk.
        Nn = "nn",
        /// Danish.
        Da = "da",
        /// Finnish.
        Fi = "fi",
        /// English.
        En = "en",
    }
}

code_enum! {
    /// Product group a clause or template is written for.
    ProductGroup {
        Computers = "computers",
        Displays = "displays",
        /// Mobile phones and tablets.
        MobileDevices = "mobile-devices",
        /// Servers, storage and data centres.
        ServersDataCentres = "servers-data-centres",
        /// Printers, copiers and multifunction devices.
        ImagingEquipment = "imaging-equipment",
        NetworkEquipment = "network-equipment",
        /// Take-back, reuse and e-waste handling services.
        TakeBackServices = "take-back-services",
        ItServices = "it-services",
        Other = "other",
    }
}

code_enum! {
    /// Procurement procedure of a reported tender.
    ProcedureType {
        Open = "open",
        Restricted = "restricted",
        Negotiated = "negotiated",
        CompetitiveDialogue = "competitive-dialogue",
        InnovationPartnership = "innovation-partnership",
        /// Call-off with renewed competition under a framework agreement.
        MiniCompetition = "mini-competition",
        DirectAward = "direct-award",
    }
}

code_enum! {
    /// Contract value band; exact prices are never stored.
    ValueBand {
        /// Under 100,000 EUR.
        #[graphql(name = "UNDER_EUR100K")]
        UnderEur100k = "lt-100k",
        /// 100,000 to 1 million EUR.
        #[graphql(name = "EUR100K_TO1M")]
        Eur100kTo1m = "100k-1m",
        /// 1 to 10 million EUR.
        #[graphql(name = "EUR1M_TO10M")]
        Eur1mTo10m = "1m-10m",
        /// Over 10 million EUR.
        #[graphql(name = "OVER_EUR10M")]
        OverEur10m = "gt-10m",
    }
}

code_enum! {
    /// What happened to a clause in a tender.
    ClauseOutcome {
        /// The winning tender met the clause.
        MetByWinner = "met-by-winner",
        /// Every tender met the clause.
        MetByAll = "met-by-all",
        /// The clause excluded at least one bidder.
        ExcludedBidders = "excluded-bidders",
        /// The clause was dropped during the procedure.
        Dropped = "dropped",
        /// The clause was kept but never followed up.
        NotFollowedUp = "not-followed-up",
    }
}

code_enum! {
    /// Result of following a clause up during the contract.
    FollowUpResult {
        Compliant = "compliant",
        DeviationFound = "deviation-found",
        NotChecked = "not-checked",
    }
}

code_enum! {
    /// What a change event did to the published catalogue.
    ChangeOperation {
        /// A new or updated published version.
        Upsert = "UPSERT",
        /// Withdrawn: the record stays readable with its reason.
        Withdraw = "WITHDRAW",
        /// Removed for good (tombstone).
        Delete = "DELETE",
    }
}

code_enum! {
    /// Which kind of record a change event is about.
    EntityType {
        Organization = "organization",
        Clause = "clause",
        Template = "template",
        TenderResult = "tender_result",
    }
}
