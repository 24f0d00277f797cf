//! Confluent's JSON Schema difference types: which are compatible under its
//! default STRICT policy, and the message each is reported with.

/// The difference types that do not break a reader (Confluent's STRICT set).
pub const COMPATIBLE: [&str; 65] = [
    "ID_CHANGED",
    "DESCRIPTION_CHANGED",
    "TITLE_CHANGED",
    "DEFAULT_CHANGED",
    "SCHEMA_REMOVED",
    "TYPE_EXTENDED",
    "MAX_LENGTH_INCREASED",
    "MAX_LENGTH_REMOVED",
    "MIN_LENGTH_DECREASED",
    "MIN_LENGTH_REMOVED",
    "PATTERN_REMOVED",
    "MAXIMUM_INCREASED",
    "MAXIMUM_REMOVED",
    "MINIMUM_DECREASED",
    "MINIMUM_REMOVED",
    "EXCLUSIVE_MAXIMUM_INCREASED",
    "EXCLUSIVE_MAXIMUM_REMOVED",
    "EXCLUSIVE_MINIMUM_DECREASED",
    "EXCLUSIVE_MINIMUM_REMOVED",
    "MULTIPLE_OF_REDUCED",
    "MULTIPLE_OF_REMOVED",
    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
    "REQUIRED_ATTRIBUTE_REMOVED",
    "DEPENDENCY_ARRAY_NARROWED",
    "DEPENDENCY_ARRAY_REMOVED",
    "DEPENDENCY_SCHEMA_REMOVED",
    "MAX_PROPERTIES_INCREASED",
    "MAX_PROPERTIES_REMOVED",
    "MIN_PROPERTIES_DECREASED",
    "MIN_PROPERTIES_REMOVED",
    "ADDITIONAL_PROPERTIES_ADDED",
    "ADDITIONAL_PROPERTIES_EXTENDED",
    "UNEVALUATED_PROPERTIES_ADDED",
    "UNEVALUATED_PROPERTIES_EXTENDED",
    "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "MAX_ITEMS_INCREASED",
    "MAX_ITEMS_REMOVED",
    "MIN_ITEMS_DECREASED",
    "MIN_ITEMS_REMOVED",
    "MAX_CONTAINS_INCREASED",
    "MAX_CONTAINS_REMOVED",
    "MIN_CONTAINS_DECREASED",
    "MIN_CONTAINS_REMOVED",
    "UNIQUE_ITEMS_REMOVED",
    "ADDITIONAL_ITEMS_ADDED",
    "ADDITIONAL_ITEMS_EXTENDED",
    "UNEVALUATED_ITEMS_ADDED",
    "UNEVALUATED_ITEMS_EXTENDED",
    "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
    "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ENUM_ARRAY_EXTENDED",
    "COMBINED_TYPE_EXTENDED",
    "PRODUCT_TYPE_NARROWED",
    "SUM_TYPE_EXTENDED",
    "NOT_TYPE_NARROWED",
];

/// One difference: its type and the JSON path (`#/properties/a`) it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: &'static str,
    /// Relative to the compared pair: "" is the root, else `/a/b`.
    pub path: String,
}

/// Whether every difference is one a reader can live with.
pub fn compatible(diffs: &[Difference]) -> bool {
    diffs.iter().all(|d| COMPATIBLE.contains(&d.kind))
}

impl Difference {
    /// `#/` for the root, else `#/a/b`.
    pub fn json_path(&self) -> String {
        if self.path.is_empty() {
            "#/".to_string()
        } else {
            format!("#{}", self.path)
        }
    }

    /// Confluent's message shape; `%s` stands first for the reader's (the
    /// update's) role, then the writer's, filled in by the caller.
    pub fn message(&self) -> String {
        let p = self.json_path();
        let k = self.kind;
        let has = |list: &[&str]| list.contains(&k);
        let d = if has(&KEYWORD_ADDED_OR_REMOVED) {
            format!("The keyword at path '{p}' in the %s schema is not present in the %s schema")
        } else if has(&VALUE_INCREASED) {
            format!(
                "The value at path '{p}' in the %s schema is more than its value in the %s schema"
            )
        } else if has(&VALUE_DECREASED) {
            format!(
                "The value at path '{p}' in the %s schema is less than its value in the %s schema"
            )
        } else if has(&[
            "PATTERN_CHANGED",
            "MULTIPLE_OF_CHANGED",
            "DEPENDENCY_ARRAY_CHANGED",
        ]) {
            format!("The value at path '{p}' is different between the %s and %s schema")
        } else if has(&TYPE_NARROWED) {
            format!("An array or combined type at path '{p}' has fewer elements in the %s schema than the %s schema")
        } else if has(&TYPE_EXTENDED) {
            format!("An array or combined type at path '{p}' has more elements in the %s schema than the %s schema")
        } else if has(&TYPE_CHANGED) {
            format!("A type at path '{p}' is different between the %s schema and the %s schema")
        } else if has(&ADDED_TO_OPEN) {
            format!("The %s schema has an open content model and has a property or item at path '{p}' which is missing in the %s schema")
        } else if k == "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL" {
            format!("The %s schema has an unopen content model and has a required property at path '{p}' which is missing in the %s schema")
        } else if has(&[
            "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        ]) {
            format!("The %s has a closed content model and is missing a property or item present at path '{p}' in the %s schema")
        } else if has(&[
            "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        ]) {
            format!("A property or item is missing in the %s schema but present at path '{p}' in the %s schema and is not covered by its partially open content model")
        } else if has(&[
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        ]) {
            format!("The %s schema has a property or item at path '{p}' which is missing in the %s schema and is not covered by its partially open content model")
        } else if k == super::TOO_COMPLEX {
            "The %s and %s schemas nest or branch too much to be compared".to_string()
        } else {
            format!("A difference at path '{p}' between the %s schema and the %s schema")
        };
        format!("{{errorType:\"{k}\", description:\"{d}\"}}")
    }
}

const KEYWORD_ADDED_OR_REMOVED: [&str; 22] = [
    "MAXIMUM_ADDED",
    "MINIMUM_ADDED",
    "EXCLUSIVE_MAXIMUM_ADDED",
    "EXCLUSIVE_MINIMUM_ADDED",
    "MULTIPLE_OF_ADDED",
    "MAX_LENGTH_ADDED",
    "MIN_LENGTH_ADDED",
    "PATTERN_ADDED",
    "REQUIRED_ATTRIBUTE_ADDED",
    "MAX_PROPERTIES_ADDED",
    "MIN_PROPERTIES_ADDED",
    "DEPENDENCY_ARRAY_ADDED",
    "DEPENDENCY_SCHEMA_ADDED",
    "MAX_ITEMS_ADDED",
    "MIN_ITEMS_ADDED",
    "MAX_CONTAINS_ADDED",
    "MIN_CONTAINS_ADDED",
    "UNIQUE_ITEMS_ADDED",
    "ADDITIONAL_ITEMS_REMOVED",
    "ADDITIONAL_PROPERTIES_REMOVED",
    "UNEVALUATED_PROPERTIES_REMOVED",
    "UNEVALUATED_ITEMS_REMOVED",
];
const VALUE_INCREASED: [&str; 7] = [
    "MIN_LENGTH_INCREASED",
    "MINIMUM_INCREASED",
    "EXCLUSIVE_MINIMUM_INCREASED",
    "MIN_PROPERTIES_INCREASED",
    "MULTIPLE_OF_EXPANDED",
    "MIN_ITEMS_INCREASED",
    "MIN_CONTAINS_INCREASED",
];
const VALUE_DECREASED: [&str; 6] = [
    "MAX_LENGTH_DECREASED",
    "MAXIMUM_DECREASED",
    "MAX_ITEMS_DECREASED",
    "MAX_CONTAINS_DECREASED",
    "EXCLUSIVE_MAXIMUM_DECREASED",
    "MAX_PROPERTIES_DECREASED",
];
const TYPE_NARROWED: [&str; 6] = [
    "ADDITIONAL_ITEMS_NARROWED",
    "ENUM_ARRAY_NARROWED",
    "SUM_TYPE_NARROWED",
    "ADDITIONAL_PROPERTIES_NARROWED",
    "UNEVALUATED_PROPERTIES_NARROWED",
    "UNEVALUATED_ITEMS_NARROWED",
];
const TYPE_EXTENDED: [&str; 4] = [
    "DEPENDENCY_ARRAY_EXTENDED",
    "PRODUCT_TYPE_EXTENDED",
    "SUM_TYPE_EXTENDED",
    "NOT_TYPE_EXTENDED",
];
const TYPE_CHANGED: [&str; 5] = [
    "TYPE_CHANGED",
    "TYPE_NARROWED",
    "COMBINED_TYPE_CHANGED",
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
    "ENUM_ARRAY_CHANGED",
];
const ADDED_TO_OPEN: [&str; 4] = [
    "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_difference_with_role_placeholders() {
        let d = Difference {
            kind: "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            path: "/properties/b".into(),
        };
        assert_eq!(
            d.message(),
            "{errorType:\"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL\", description:\"The %s schema has an open content model and has a property or item at path '#/properties/b' which is missing in the %s schema\"}"
        );
    }
}
