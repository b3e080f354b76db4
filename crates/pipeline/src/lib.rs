//! collect → aggregate → detect → forecast → budgets → report, as functions over the store ports
