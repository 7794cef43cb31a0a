//! The built-in charger and CSMS simulators: realistic peers for the demo, the tests and
//! labs without a real device. (Not built yet: see the simulators issue.)
