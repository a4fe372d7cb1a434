//! A small WordprocessingML (DOCX, ECMA-376) writer: a title, headings, paragraphs and
//! labelled paragraphs, with styles that Word and LibreOffice show as real headings (they
//! appear in the navigation pane and a table of contents).

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

/// A document being written.
pub struct Docx {
    body: String,
    /// BCP 47 tag of the text, e.g. `sv-SE`.
    lang: &'static str,
}

/// The characters XML 1.0 allows, escaped.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Runs for a text, line breaks kept.
fn runs(text: &str, bold: bool) -> String {
    let props = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push_str("<w:r><w:br/></w:r>");
        }
        out.push_str(&format!(
            "<w:r>{props}<w:t xml:space=\"preserve\">{}</w:t></w:r>",
            xml_text(line)
        ));
    }
    out
}

impl Docx {
    pub fn new(lang: &'static str) -> Self {
        Self {
            body: String::new(),
            lang,
        }
    }

    fn paragraph(&mut self, style: Option<&str>, content: &str) {
        self.body.push_str("<w:p>");
        if let Some(style) = style {
            self.body
                .push_str(&format!("<w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>"));
        }
        self.body.push_str(content);
        self.body.push_str("</w:p>");
    }

    pub fn title(&mut self, text: &str) {
        self.paragraph(Some("Title"), &runs(text, false));
    }

    /// A heading of level 1 or 2.
    pub fn heading(&mut self, level: u8, text: &str) {
        let style = if level <= 1 { "Heading1" } else { "Heading2" };
        self.paragraph(Some(style), &runs(text, false));
    }

    /// Body text; each blank-line-separated block is its own paragraph.
    pub fn text(&mut self, text: &str) {
        for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
            self.paragraph(None, &runs(block, false));
        }
    }

    /// A paragraph that starts with a bold label: `Verification: …`.
    pub fn labelled(&mut self, label: &str, text: &str) {
        let content = format!("{}{}", runs(&format!("{label}: "), true), runs(text, false));
        self.paragraph(None, &content);
    }

    /// Small print (sources and evidence).
    pub fn note(&mut self, text: &str) {
        self.paragraph(Some("Note"), &runs(text, false));
    }

    /// The finished `.docx` file.
    pub fn finish(self, title: &str, created: &str) -> std::io::Result<Vec<u8>> {
        let document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <w:document xmlns:w=\"{W}\"><w:body>{}\
             <w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
             <w:pgMar w:top=\"1417\" w:right=\"1417\" w:bottom=\"1417\" w:left=\"1417\" \
             w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>",
            self.body
        );
        let core = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
             <dc:title>{}</dc:title><dc:language>{}</dc:language>\
             <dcterms:created xsi:type=\"dcterms:W3CDTF\">{}</dcterms:created></cp:coreProperties>",
            xml_text(title),
            self.lang,
            xml_text(created)
        );
        let parts: [(&str, String); 6] = [
            ("[Content_Types].xml", CONTENT_TYPES.to_owned()),
            ("_rels/.rels", PACKAGE_RELS.to_owned()),
            ("docProps/core.xml", core),
            ("word/_rels/document.xml.rels", DOCUMENT_RELS.to_owned()),
            ("word/styles.xml", styles(self.lang)),
            ("word/document.xml", document),
        ];
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, content) in parts {
            zip.start_file(name, options)
                .map_err(std::io::Error::other)?;
            zip.write_all(content.as_bytes())?;
        }
        Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
    }
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
</Types>";

const PACKAGE_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
</Relationships>";

const DOCUMENT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
</Relationships>";

fn styles(lang: &str) -> String {
    let heading = |id: &str, name: &str, level: u8, size: u16| {
        format!(
            "<w:style w:type=\"paragraph\" w:styleId=\"{id}\"><w:name w:val=\"{name}\"/>\
             <w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>\
             <w:pPr><w:keepNext/><w:spacing w:before=\"360\" w:after=\"120\"/><w:outlineLvl w:val=\"{level}\"/></w:pPr>\
             <w:rPr><w:b/><w:sz w:val=\"{size}\"/></w:rPr></w:style>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:styles xmlns:w=\"{W}\">\
         <w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Calibri\" w:hAnsi=\"Calibri\" w:cs=\"Calibri\"/>\
         <w:sz w:val=\"22\"/><w:lang w:val=\"{lang}\"/></w:rPr></w:rPrDefault>\
         <w:pPrDefault><w:pPr><w:spacing w:after=\"120\" w:line=\"276\" w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>\
         <w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/>\
         <w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:spacing w:after=\"240\"/></w:pPr><w:rPr><w:sz w:val=\"48\"/></w:rPr></w:style>\
         {}{}\
         <w:style w:type=\"paragraph\" w:styleId=\"Note\"><w:name w:val=\"Note\"/><w:basedOn w:val=\"Normal\"/>\
         <w:rPr><w:color w:val=\"555555\"/><w:sz w:val=\"18\"/></w:rPr></w:style>\
         </w:styles>",
        heading("Heading1", "heading 1", 0, 32),
        heading("Heading2", "heading 2", 1, 26),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_document_opens_as_a_zip_with_its_text_escaped() {
        let mut doc = Docx::new("sv-SE");
        doc.title("Upphandling <IT>");
        doc.heading(1, "Tilldelningskriterier");
        doc.text("Rad ett\nrad två & tre\u{1}");
        doc.labelled("Verifiering", "Intyg");
        let bytes = doc
            .finish("Upphandling", "2026-12-06T00:00:00Z")
            .expect("a document");
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .expect("the main part")
            .read_to_string(&mut xml)
            .expect("UTF-8 XML");
        assert!(xml.contains("Upphandling &lt;IT&gt;"));
        assert!(xml.contains("<w:pStyle w:val=\"Heading1\"/>"));
        assert!(xml.contains("rad två &amp; tre</w:t>"), "{xml}");
        assert!(xml.contains("<w:b/></w:rPr><w:t xml:space=\"preserve\">Verifiering: "));
        assert!(zip.by_name("word/styles.xml").is_ok());
        assert!(zip.by_name("[Content_Types].xml").is_ok());
    }
}
