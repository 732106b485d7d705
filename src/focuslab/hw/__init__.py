"""Camera hardware: EMVA 1288 sensor characterization, defect pixels, module qualification,
population anomaly detection and lens/sensor design exploration (DESIGN.md layout ``hw/``)."""
