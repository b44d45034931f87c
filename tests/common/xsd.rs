//! XML Schema validation for the tests, in Rust: the subset of XSD 1.0
//! that the strict Jenkins JUnit schema (`tests/fixtures/junit/
//! jenkins-junit-10.xsd`) is written in, read from that file, so that the
//! tests need no outside tool.
//!
//! No crate validates XSD in Rust today without C: `libxml` binds the
//! system's libxml2, and the pure-Rust `xmlschema` (0.0.x) does not model
//! a repeated `xs:choice`, which is how the schema lists a test case's
//! children, and calls every report invalid. This module reads what the
//! schema uses: global elements (named, typed or with an inline complex
//! type), `ref`s, named complex and simple types, `xs:sequence` and
//! `xs:choice` with `minOccurs`/`maxOccurs`, attributes with `use` and a
//! type, `mixed`, `xs:string` and `xs:restriction` by `xs:pattern`. Any
//! other construct in a schema is an error here, never skipped. Where
//! `xmllint` is installed the tests run it too (`.ci/run` requires it), and
//! `junit_report::the_xsd_check_refuses_what_the_schema_forbids` checks that
//! both agree on valid and invalid reports.

use std::collections::{BTreeSet, HashMap};

/// How many times a particle may occur.
#[derive(Debug, Clone, Copy)]
struct Occurs {
    min: usize,
    max: Option<usize>,
}

/// A model group or an element in a content model.
#[derive(Debug, Clone)]
enum Particle {
    /// An element by name (a `ref` or a local declaration).
    Element(String, Occurs),
    Sequence(Vec<Particle>, Occurs),
    Choice(Vec<Particle>, Occurs),
}

/// The type of an attribute or of an element with text only.
#[derive(Debug, Clone)]
enum Simple {
    String,
    Pattern(regex::Regex, String),
}

#[derive(Debug, Clone)]
struct Attribute {
    required: bool,
    ty: Simple,
}

/// What an element may hold.
#[derive(Debug, Clone)]
enum Content {
    /// Text of a simple type, no child element, no attribute.
    Simple(Simple),
    Complex {
        mixed: bool,
        particle: Option<Particle>,
        attributes: HashMap<String, Attribute>,
    },
}

/// A schema read by [`Xsd::parse`].
#[derive(Debug)]
pub struct Xsd {
    /// Global elements, by name.
    elements: HashMap<String, Content>,
    /// Local element declarations, by name (the schema's local elements
    /// all have simple types, the same wherever the name is used).
    local: HashMap<String, Content>,
}

const XS: &str = "http://www.w3.org/2001/XMLSchema";

fn occurs(n: roxmltree::Node) -> Result<Occurs, String> {
    let num = |attr: &str, default: usize| -> Result<Option<usize>, String> {
        match n.attribute(attr) {
            None => Ok(Some(default)),
            Some("unbounded") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("{attr}=\"{v}\" is not a number")),
        }
    };
    Ok(Occurs {
        min: num("minOccurs", 1)?.ok_or("minOccurs=\"unbounded\"")?,
        max: num("maxOccurs", 1)?,
    })
}

fn xs_children<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn name_of<'a>(n: roxmltree::Node<'a, '_>) -> Result<&'a str, String> {
    n.attribute("name")
        .ok_or_else(|| format!("xs:{} without a name", n.tag_name().name()))
}

/// The schema's parts, collected before they are resolved.
struct Reader<'a, 'i> {
    simple_types: HashMap<&'a str, roxmltree::Node<'a, 'i>>,
    complex_types: HashMap<&'a str, roxmltree::Node<'a, 'i>>,
    local: HashMap<String, Content>,
}

impl<'a, 'i> Reader<'a, 'i> {
    fn simple(&self, ty: &str) -> Result<Simple, String> {
        if ty == "xs:string" {
            return Ok(Simple::String);
        }
        let node = self
            .simple_types
            .get(ty)
            .ok_or_else(|| format!("unknown simple type `{ty}`"))?;
        let restriction = xs_children(*node)
            .find(|c| c.tag_name().name() == "restriction")
            .filter(|r| r.attribute("base") == Some("xs:string"))
            .ok_or_else(|| format!("simple type `{ty}`: only a restriction of xs:string"))?;
        let mut facets = xs_children(restriction);
        match (facets.next(), facets.next()) {
            (Some(p), None) if p.tag_name().name() == "pattern" => {
                let pattern = p.attribute("value").ok_or("xs:pattern without a value")?;
                let re = regex::Regex::new(&format!("^(?:{pattern})$"))
                    .map_err(|e| format!("pattern `{pattern}`: {e}"))?;
                Ok(Simple::Pattern(re, pattern.to_owned()))
            }
            _ => Err(format!("simple type `{ty}`: only one xs:pattern facet")),
        }
    }

    fn particle(&mut self, n: roxmltree::Node) -> Result<Particle, String> {
        let o = occurs(n)?;
        match n.tag_name().name() {
            "element" => {
                if let Some(r) = n.attribute("ref") {
                    return Ok(Particle::Element(r.to_owned(), o));
                }
                let name = name_of(n)?.to_owned();
                let content = self.element_content(n)?;
                self.local.insert(name.clone(), content);
                Ok(Particle::Element(name, o))
            }
            group @ ("sequence" | "choice") => {
                let items = xs_children(n)
                    .map(|c| self.particle(c))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if group == "sequence" {
                    Particle::Sequence(items, o)
                } else {
                    Particle::Choice(items, o)
                })
            }
            other => Err(format!("xs:{other} in a content model is not supported")),
        }
    }

    fn complex(&mut self, n: roxmltree::Node) -> Result<Content, String> {
        let mut particle = None;
        let mut attributes = HashMap::new();
        for c in xs_children(n) {
            match c.tag_name().name() {
                "attribute" => {
                    let required = match c.attribute("use") {
                        None | Some("optional") => false,
                        Some("required") => true,
                        Some(u) => return Err(format!("use=\"{u}\"")),
                    };
                    let ty = self.simple(c.attribute("type").unwrap_or("xs:string"))?;
                    attributes.insert(name_of(c)?.to_owned(), Attribute { required, ty });
                }
                _ if particle.is_none() => particle = Some(self.particle(c)?),
                other => return Err(format!("a second content model (xs:{other})")),
            }
        }
        Ok(Content::Complex {
            mixed: n.attribute("mixed") == Some("true"),
            particle,
            attributes,
        })
    }

    fn element_content(&mut self, n: roxmltree::Node) -> Result<Content, String> {
        if let Some(ty) = n.attribute("type") {
            if let Some(node) = self.complex_types.get(ty).copied() {
                return self.complex(node);
            }
            return Ok(Content::Simple(self.simple(ty)?));
        }
        match xs_children(n).next() {
            Some(c) if c.tag_name().name() == "complexType" => self.complex(c),
            _ => Err(format!("element `{}` without a type", name_of(n)?)),
        }
    }
}

impl Xsd {
    /// Reads a schema; an error names the construct this module does not
    /// support.
    pub fn parse(text: &str) -> Result<Xsd, String> {
        let doc = roxmltree::Document::parse(text).map_err(|e| e.to_string())?;
        let root = doc.root_element();
        let mut reader = Reader {
            simple_types: HashMap::new(),
            complex_types: HashMap::new(),
            local: HashMap::new(),
        };
        let mut globals = Vec::new();
        for n in xs_children(root) {
            if n.tag_name().namespace() != Some(XS) {
                return Err(format!(
                    "`{}` is not an XML Schema element",
                    n.tag_name().name()
                ));
            }
            match n.tag_name().name() {
                "simpleType" => _ = reader.simple_types.insert(name_of(n)?, n),
                "complexType" => _ = reader.complex_types.insert(name_of(n)?, n),
                "element" => globals.push(n),
                other => return Err(format!("xs:{other} is not supported")),
            }
        }
        let mut elements = HashMap::new();
        for n in globals {
            let content = reader.element_content(n)?;
            elements.insert(name_of(n)?.to_owned(), content);
        }
        Ok(Xsd {
            elements,
            local: reader.local,
        })
    }

    /// Every violation of `xml` against the schema, each with its path
    /// (`/testsuites/testsuite[2]/testcase[1]`); empty when it is valid.
    pub fn validate(&self, xml: &str) -> Vec<String> {
        let doc = match roxmltree::Document::parse(xml) {
            Ok(d) => d,
            Err(e) => return vec![format!("not well-formed: {e}")],
        };
        let root = doc.root_element();
        let mut out = Vec::new();
        let name = root.tag_name().name();
        match self.elements.get(name) {
            Some(content) => self.check(root, content, &format!("/{name}"), &mut out),
            None => out.push(format!("/{name}: no global element `{name}` in the schema")),
        }
        out
    }

    fn content(&self, name: &str) -> Option<&Content> {
        self.elements.get(name).or_else(|| self.local.get(name))
    }

    fn check(&self, n: roxmltree::Node, content: &Content, path: &str, out: &mut Vec<String>) {
        if n.tag_name().namespace().is_some() {
            out.push(format!("{path}: an element in a namespace"));
        }
        let children: Vec<_> = n.children().filter(|c| c.is_element()).collect();
        let text = || {
            n.children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect::<String>()
        };
        match content {
            Content::Simple(ty) => {
                if let Some(a) = n.attributes().next() {
                    out.push(format!("{path}: attribute `{}` is not allowed", a.name()));
                }
                if !children.is_empty() {
                    out.push(format!("{path}: a text-only element has child elements"));
                }
                check_simple(ty, &text(), path, out);
            }
            Content::Complex {
                mixed,
                particle,
                attributes,
            } => {
                for a in n.attributes() {
                    match attributes.get(a.name()) {
                        Some(decl) if a.namespace().is_none() => {
                            check_simple(&decl.ty, a.value(), &format!("{path}/@{}", a.name()), out)
                        }
                        _ => out.push(format!("{path}: attribute `{}` is not allowed", a.name())),
                    }
                }
                for (name, decl) in attributes {
                    if decl.required && n.attribute(name.as_str()).is_none() {
                        out.push(format!("{path}: required attribute `{name}` is missing"));
                    }
                }
                if !mixed && !text().trim().is_empty() {
                    out.push(format!(
                        "{path}: text is not allowed in element-only content"
                    ));
                }
                let names: Vec<&str> = children.iter().map(|c| c.tag_name().name()).collect();
                let ends = match particle {
                    Some(p) => matches(p, &names, 0),
                    None => BTreeSet::from([0]),
                };
                if !ends.contains(&names.len()) {
                    let reached = ends.iter().max().copied().unwrap_or(0);
                    let what = names
                        .get(reached)
                        .map_or("the end".to_owned(), |n| format!("`{n}`"));
                    out.push(format!(
                        "{path}: children [{}] do not follow the content model: unexpected {what}",
                        names.join(", ")
                    ));
                    return;
                }
                let mut seen: HashMap<&str, usize> = HashMap::new();
                for (c, name) in children.iter().zip(&names) {
                    let i = seen.entry(name).or_default();
                    *i += 1;
                    let child = format!("{path}/{name}[{i}]");
                    match self.content(name) {
                        Some(content) => self.check(*c, content, &child, out),
                        None => out.push(format!("{child}: `{name}` is not declared")),
                    }
                }
            }
        }
    }
}

fn check_simple(ty: &Simple, value: &str, path: &str, out: &mut Vec<String>) {
    if let Simple::Pattern(re, pattern) = ty
        && !re.is_match(value)
    {
        out.push(format!(
            "{path}: `{value}` does not match the pattern `{pattern}`"
        ));
    }
}

/// The positions in `names` that `p`, started at `from`, can end at.
fn matches(p: &Particle, names: &[&str], from: usize) -> BTreeSet<usize> {
    let (o, once): (Occurs, &dyn Fn(usize) -> BTreeSet<usize>) = match p {
        Particle::Element(name, o) => (*o, &|at: usize| {
            if names.get(at) == Some(&name.as_str()) {
                BTreeSet::from([at + 1])
            } else {
                BTreeSet::new()
            }
        }),
        Particle::Sequence(items, o) => (*o, &|at: usize| {
            items.iter().fold(BTreeSet::from([at]), |starts, item| {
                starts
                    .into_iter()
                    .flat_map(|s| matches(item, names, s))
                    .collect()
            })
        }),
        Particle::Choice(items, o) => (*o, &|at: usize| {
            items
                .iter()
                .flat_map(|item| matches(item, names, at))
                .collect()
        }),
    };
    // Repetitions: the ends after k occurrences, for k up to max (or
    // until no new end appears).
    let mut ends = BTreeSet::new();
    let mut current = BTreeSet::from([from]);
    let mut k = 0;
    loop {
        if k >= o.min {
            ends.extend(current.iter().copied());
        }
        if o.max.is_some_and(|max| k >= max) || current.is_empty() {
            break;
        }
        let next: BTreeSet<usize> = current.iter().flat_map(|&s| once(s)).collect();
        // Past the minimum, only progress matters: an occurrence that
        // consumes nothing adds no end.
        let next: BTreeSet<usize> = if k >= o.min {
            next.difference(&ends).copied().collect()
        } else {
            next
        };
        k += 1;
        if next.is_empty() && k > o.min {
            break;
        }
        current = next;
        if k > names.len() + o.min + 1 {
            break;
        }
    }
    ends
}

/// The strict Jenkins JUnit schema, read once per test binary.
pub fn jenkins() -> &'static Xsd {
    static XSD: std::sync::OnceLock<Xsd> = std::sync::OnceLock::new();
    XSD.get_or_init(|| {
        let path = super::junit_xsd();
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Xsd::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}
