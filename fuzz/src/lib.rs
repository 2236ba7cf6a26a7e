//! pathwise's fuzz targets share their checks through this library (see [`checks`]).

pub mod checks;
