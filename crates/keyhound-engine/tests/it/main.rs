//! Integration tests of the matcher against the built-in rules.

mod builtin_rules;
mod matching;
mod rule_conditions;
