//! `Signature-Input` and `Signature` (RFC 9421 §4): RFC 8941 dictionaries, parsed with
//! the `sfv` crate, matched by label, and the signature base (§2.5) built from them.

use sfv::{BareItem, Dictionary, InnerList, Item, KeyRef, ListEntry, ListSerializer, Parser};

use super::SignatureError;
use super::components::{Component, RequestParts};

/// The longest `Signature-Input` or `Signature` value accepted, in bytes.
pub const MAX_FIELD_LEN: usize = 8 * 1024;
/// The most components one signature may cover.
pub const MAX_COMPONENTS: usize = 32;
/// The longest `nonce` or `keyid`, in characters.
pub const MAX_PARAM_LEN: usize = 256;

/// The signature parameters this crate knows (§2.3); others are kept for the base but
/// otherwise ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureParams {
    /// `created`: when the signature was made (Unix seconds).
    pub created: Option<i64>,
    /// `expires`: when it stops being valid (Unix seconds).
    pub expires: Option<i64>,
    /// `nonce`: a value used once.
    pub nonce: Option<String>,
    /// `keyid`: which key made it (here: the session id).
    pub keyid: Option<String>,
    /// `alg`: the algorithm (`hmac-sha256`, `ed25519`).
    pub alg: Option<String>,
    /// `tag`: the application's tag.
    pub tag: Option<String>,
}

/// One signature of a message: its label, what it covers, its parameters and value.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The dictionary key in both fields, e.g. `sig1`.
    pub label: String,
    /// The covered components, in order.
    pub components: Vec<Component>,
    /// The parameters.
    pub params: SignatureParams,
    /// The signature bytes.
    pub value: Vec<u8>,
    /// The `Signature-Input` member, re-serialized for the `@signature-params` line.
    serialized_params: String,
}

impl Signature {
    /// The `@signature-params` value: the serialized inner list with its parameters.
    pub fn signature_params(&self) -> &str {
        &self.serialized_params
    }

    /// The signature base (§2.5) of this signature over `parts`.
    pub fn base(&self, parts: &RequestParts<'_>) -> Result<String, SignatureError> {
        signature_base(&self.components, &self.serialized_params, parts)
    }
}

/// The signature base for `components` with the serialized `@signature-params` value.
pub fn signature_base(
    components: &[Component],
    signature_params: &str,
    parts: &RequestParts<'_>,
) -> Result<String, SignatureError> {
    let mut base = String::with_capacity(256);
    for component in components {
        let value = component.value(parts)?;
        if value.contains('\n') || value.contains('\r') {
            return Err(SignatureError::invalid(format!(
                "the value of {} holds a line break",
                component.name()
            )));
        }
        base.push('"');
        base.push_str(component.name());
        base.push_str("\": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(signature_params);
    Ok(base)
}

/// Every signature of the two fields, matched by label: each label of `Signature-Input`
/// must have a byte sequence in `Signature` and the other way round.
pub fn parse(signature_input: &[u8], signature: &[u8]) -> Result<Vec<Signature>, SignatureError> {
    if signature_input.len() > MAX_FIELD_LEN || signature.len() > MAX_FIELD_LEN {
        return Err(SignatureError::invalid(format!(
            "Signature-Input and Signature are limited to {MAX_FIELD_LEN} bytes"
        )));
    }
    let inputs: Dictionary = Parser::new(signature_input).parse().map_err(|e| {
        SignatureError::invalid(format!("Signature-Input is not a dictionary: {e}"))
    })?;
    let values: Dictionary = Parser::new(signature)
        .parse()
        .map_err(|e| SignatureError::invalid(format!("Signature is not a dictionary: {e}")))?;
    if inputs.len() != values.len() {
        return Err(SignatureError::invalid(
            "Signature-Input and Signature have different labels",
        ));
    }
    inputs
        .iter()
        .map(|(label, entry)| {
            let label = label.as_str();
            let ListEntry::InnerList(list) = entry else {
                return Err(SignatureError::invalid(format!(
                    "Signature-Input {label} is not an inner list of components"
                )));
            };
            let value = match values.get(label) {
                Some(ListEntry::Item(Item {
                    bare_item: BareItem::ByteSequence(bytes),
                    ..
                })) => bytes.clone(),
                Some(_) => {
                    return Err(SignatureError::invalid(format!(
                        "Signature {label} is not a byte sequence"
                    )));
                }
                None => {
                    return Err(SignatureError::invalid(format!(
                        "Signature has no {label} for Signature-Input {label}"
                    )));
                }
            };
            Ok(Signature {
                label: label.to_owned(),
                components: components(label, list)?,
                params: params(label, list)?,
                value,
                serialized_params: serialize(list),
            })
        })
        .collect()
}

fn components(label: &str, list: &InnerList) -> Result<Vec<Component>, SignatureError> {
    if list.items.len() > MAX_COMPONENTS {
        return Err(SignatureError::invalid(format!(
            "Signature-Input {label} covers more than {MAX_COMPONENTS} components"
        )));
    }
    let mut seen = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(SignatureError::invalid(format!(
                "Signature-Input {label}: component identifiers are strings"
            )));
        };
        if !item.params.is_empty() {
            return Err(SignatureError::invalid(format!(
                "Signature-Input {label}: component parameters (;sf, ;key, ;bs, ;req, ;tr) are not supported"
            )));
        }
        let component = Component::parse(name.as_str())?;
        if seen.contains(&component) {
            return Err(SignatureError::invalid(format!(
                "Signature-Input {label} covers {} twice",
                component.name()
            )));
        }
        seen.push(component);
    }
    Ok(seen)
}

fn params(label: &str, list: &InnerList) -> Result<SignatureParams, SignatureError> {
    let mut params = SignatureParams::default();
    for (key, value) in &list.params {
        let wrong = |what: &str| {
            SignatureError::invalid(format!(
                "Signature-Input {label}: `{}` must be {what}",
                key.as_str()
            ))
        };
        match key.as_str() {
            "created" | "expires" => {
                let seconds = value
                    .as_integer()
                    .map(i64::from)
                    .ok_or_else(|| wrong("an integer"))?;
                if key.as_str() == "created" {
                    params.created = Some(seconds);
                } else {
                    params.expires = Some(seconds);
                }
            }
            "nonce" | "keyid" | "alg" | "tag" => {
                let text = value
                    .as_string()
                    .map(|s| s.as_str().to_owned())
                    .ok_or_else(|| wrong("a string"))?;
                if text.is_empty() || text.chars().count() > MAX_PARAM_LEN {
                    return Err(wrong("a string of 1 to 256 characters"));
                }
                match key.as_str() {
                    "nonce" => params.nonce = Some(text),
                    "keyid" => params.keyid = Some(text),
                    "alg" => params.alg = Some(text),
                    _ => params.tag = Some(text),
                }
            }
            _ => {}
        }
    }
    Ok(params)
}

/// The inner list with its parameters, as RFC 8941 serializes it.
fn serialize(list: &InnerList) -> String {
    let mut serializer = ListSerializer::new();
    serializer.members([&ListEntry::InnerList(list.clone())]);
    serializer.finish().unwrap_or_default()
}

/// The `Signature-Input` member value for `components` and `params` (what a signer
/// sends and signs as `@signature-params`).
pub fn serialize_params(
    components: &[Component],
    params: &SignatureParams,
) -> Result<String, SignatureError> {
    let mut items = Vec::with_capacity(components.len());
    for component in components {
        let name = sfv::String::from_string(component.name().to_owned())
            .map_err(|(e, _)| SignatureError::invalid(e.to_string()))?;
        items.push(Item::new(name));
    }
    let mut list = InnerList::new(items);
    let key = |name: &'static str| KeyRef::constant(name).to_owned();
    if let Some(created) = params.created {
        list.params.insert(key("created"), integer(created)?);
    }
    if let Some(expires) = params.expires {
        list.params.insert(key("expires"), integer(expires)?);
    }
    // The order of RFC 9421's parameter registry (§6.3.2), which verifiers that
    // re-serialize instead of keeping the received text (the `httpsig` crate) assume.
    for (name, value) in [
        ("nonce", &params.nonce),
        ("alg", &params.alg),
        ("keyid", &params.keyid),
        ("tag", &params.tag),
    ] {
        if let Some(value) = value {
            let text = sfv::String::from_string(value.clone())
                .map_err(|(e, _)| SignatureError::invalid(format!("{name}: {e}")))?;
            list.params.insert(key(name), BareItem::String(text));
        }
    }
    Ok(serialize(&list))
}

fn integer(value: i64) -> Result<BareItem, SignatureError> {
    sfv::Integer::try_from(value)
        .map(BareItem::Integer)
        .map_err(|e| SignatureError::invalid(e.to_string()))
}
