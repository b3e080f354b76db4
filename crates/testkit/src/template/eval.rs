//! CloudFormation's intrinsic functions over a template in its JSON form (long-form `Ref`,
//! `Fn::*`): parameters with their defaults, pseudo parameters, conditions, mappings, and the
//! physical ids and attributes of the resources created so far. `AWS::NoValue` evaluates to
//! `None` and drops the list item or property that holds it, as CloudFormation does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// moto's default account; every ARN moto hands out carries it.
pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// What a created (or stood-in) resource answers to `Ref` and `Fn::GetAtt`.
#[derive(Debug, Clone, Default)]
pub struct Physical {
    pub reference: String,
    pub attributes: BTreeMap<String, String>,
    /// A stand-in answers any attribute (`<reference>.<attribute>`): nothing reads it on moto.
    pub any_attribute: bool,
}

/// Everything an expression can refer to.
pub struct Scope<'a> {
    pub stack_name: &'a str,
    pub parameters: &'a BTreeMap<String, Value>,
    pub conditions: &'a BTreeMap<String, bool>,
    pub mappings: &'a Value,
    pub resources: &'a BTreeMap<String, Physical>,
}

impl Scope<'_> {
    /// `value` with every intrinsic function replaced by its result.
    pub fn eval(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|v| self.eval(v)).collect(),
            )),
            Value::Object(map) if map.len() == 1 => {
                let (name, arg) = map.iter().next().unwrap();
                match self.function(name, arg) {
                    Some(result) => result,
                    None => Some(Value::Object(self.eval_map(map))),
                }
            }
            Value::Object(map) => Some(Value::Object(self.eval_map(map))),
            other => Some(other.clone()),
        }
    }

    /// `eval`, as the string CloudFormation would pass on (numbers and booleans stringified).
    pub fn eval_string(&self, value: &Value) -> Option<String> {
        self.eval(value).map(|v| scalar(&v))
    }

    fn eval_map(&self, map: &Map<String, Value>) -> Map<String, Value> {
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), self.eval(v)?)))
            .collect()
    }

    /// `Some(result)` when `name` is an intrinsic function, `None` for an ordinary key.
    fn function(&self, name: &str, arg: &Value) -> Option<Option<Value>> {
        let result = match name {
            "Ref" => self.reference(arg.as_str().expect("Ref takes a name")),
            "Fn::GetAtt" => Some(Value::String(self.get_att(arg))),
            "Fn::Sub" => Some(Value::String(self.sub(arg))),
            "Fn::If" => {
                let [cond, yes, no] = args::<3>(arg, name);
                let branch = if self.condition(cond.as_str().expect("Fn::If condition")) {
                    yes
                } else {
                    no
                };
                self.eval(&branch)
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => {
                Some(Value::Bool(self.truth(&single(name, arg))))
            }
            "Fn::FindInMap" => {
                let [map, first, second] = args::<3>(arg, name);
                let keys = [map, first, second].map(|k| self.eval_string(&k).unwrap());
                let found = &self.mappings[&keys[0]][&keys[1]][&keys[2]];
                assert!(!found.is_null(), "Fn::FindInMap {keys:?}: no such entry");
                Some(found.clone())
            }
            "Fn::Join" => {
                let [sep, items] = args::<2>(arg, name);
                let items = self.eval(&items).unwrap();
                let parts: Vec<String> = items
                    .as_array()
                    .expect("Fn::Join list")
                    .iter()
                    .map(scalar)
                    .collect();
                Some(Value::String(parts.join(sep.as_str().unwrap())))
            }
            "Fn::Select" => {
                let [index, items] = args::<2>(arg, name);
                let index: usize = self.eval_string(&index).unwrap().parse().unwrap();
                Some(self.eval(&items).unwrap()[index].clone())
            }
            "Fn::Split" => {
                let [sep, text] = args::<2>(arg, name);
                let text = self.eval_string(&text).unwrap();
                Some(Value::Array(
                    text.split(sep.as_str().unwrap())
                        .map(|s| Value::String(s.to_owned()))
                        .collect(),
                ))
            }
            other if other.starts_with("Fn::") => {
                panic!("{other} is not supported by the template harness")
            }
            _ => return None,
        };
        Some(result)
    }

    fn reference(&self, name: &str) -> Option<Value> {
        let pseudo = match name {
            "AWS::NoValue" => return None,
            "AWS::AccountId" => ACCOUNT_ID.to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            "AWS::StackName" => self.stack_name.to_owned(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{}/1",
                self.stack_name
            ),
            _ => {
                if let Some(value) = self.parameters.get(name) {
                    return Some(value.clone());
                }
                let resource = self.resources.get(name).unwrap_or_else(|| {
                    panic!("Ref {name}: no such parameter or (created) resource")
                });
                resource.reference.clone()
            }
        };
        Some(Value::String(pseudo))
    }

    fn get_att(&self, arg: &Value) -> String {
        let (logical, attribute) = match arg {
            Value::String(s) => s.split_once('.').expect("Fn::GetAtt Resource.Attribute"),
            Value::Array(a) => (a[0].as_str().unwrap(), a[1].as_str().unwrap()),
            other => panic!("Fn::GetAtt {other}"),
        };
        let resource = self
            .resources
            .get(logical)
            .unwrap_or_else(|| panic!("Fn::GetAtt {logical}: no such (created) resource"));
        match resource.attributes.get(attribute) {
            Some(value) => value.clone(),
            None if resource.any_attribute => format!("{}.{attribute}", resource.reference),
            None => panic!("Fn::GetAtt {logical}.{attribute}: not known"),
        }
    }

    /// `${Name}`, `${Resource.Attribute}` and `${!Literal}`, with the optional variable map.
    fn sub(&self, arg: &Value) -> String {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(a) => (
                a[0].as_str().expect("Fn::Sub text"),
                a[1].as_object().cloned().unwrap_or_default(),
            ),
            other => panic!("Fn::Sub {other}"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("unclosed ${ in Fn::Sub") + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(v) = vars.get(name) {
                out.push_str(&self.eval_string(v).unwrap());
            } else if name.contains('.') && !name.starts_with("AWS::") {
                out.push_str(&self.get_att(&Value::String(name.to_owned())));
            } else {
                out.push_str(&scalar(&self.reference(name).expect("${AWS::NoValue}")));
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    pub fn condition(&self, name: &str) -> bool {
        *self
            .conditions
            .get(name)
            .unwrap_or_else(|| panic!("condition {name} is not declared"))
    }

    /// A condition expression (the Conditions section, `Fn::If`'s first argument by name).
    pub fn truth(&self, value: &Value) -> bool {
        let map = value.as_object().filter(|m| m.len() == 1);
        let Some((name, arg)) = map.and_then(|m| m.iter().next()) else {
            return self.eval(value) == Some(Value::Bool(true));
        };
        match name.as_str() {
            "Condition" => self.condition(arg.as_str().unwrap()),
            "Fn::Not" => !self.truth(&args::<1>(arg, name)[0]),
            "Fn::And" => arg.as_array().unwrap().iter().all(|c| self.truth(c)),
            "Fn::Or" => arg.as_array().unwrap().iter().any(|c| self.truth(c)),
            "Fn::Equals" => {
                let [a, b] = args::<2>(arg, name);
                self.eval_string(&a) == self.eval_string(&b)
            }
            _ => self.eval(value) == Some(Value::Bool(true)),
        }
    }
}

/// The text CloudFormation passes for a scalar (environment variables, attributes).
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn args<const N: usize>(arg: &Value, name: &str) -> [Value; N] {
    let items = arg
        .as_array()
        .unwrap_or_else(|| panic!("{name} takes a list"));
    <[Value; N]>::try_from(items.clone())
        .unwrap_or_else(|_| panic!("{name} takes {N} arguments, got {}", items.len()))
}

fn single(name: &str, arg: &Value) -> Value {
    let mut map = Map::new();
    map.insert(name.to_owned(), arg.clone());
    Value::Object(map)
}

/// The resource ids an expression refers to (`Ref`, `Fn::GetAtt`, `${X}` / `${X.Attr}` in
/// `Fn::Sub`), so resources are created after what they name. Names that are not resources
/// (parameters, pseudo parameters) are filtered out by the caller.
pub fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        Value::Object(map) => {
            for (key, arg) in map {
                match (key.as_str(), arg) {
                    ("Ref", Value::String(name)) => out.push(name.clone()),
                    ("Fn::GetAtt", Value::String(s)) => {
                        out.push(s.split('.').next().unwrap().to_owned())
                    }
                    ("Fn::GetAtt", Value::Array(a)) => {
                        out.push(a[0].as_str().unwrap_or_default().to_owned())
                    }
                    ("Fn::Sub", arg) => {
                        let text = match arg {
                            Value::Array(a) => {
                                references(&a[1], out);
                                a[0].as_str().unwrap_or_default()
                            }
                            other => other.as_str().unwrap_or_default(),
                        };
                        for piece in text.split("${").skip(1) {
                            let name = piece.split('}').next().unwrap_or_default();
                            out.push(name.split('.').next().unwrap().to_owned());
                        }
                    }
                    _ => references(arg, out),
                }
            }
        }
        _ => {}
    }
}
