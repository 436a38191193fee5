"""Dashboards (统计分析 pages): city overview, unit ranking, a unit's own page, hot topics, density by area, the
big screen (大屏) and the cases behind a number. Figures from hotline/stats (rollup + live), charts with ECharts
from static/vendor, each beside its table and with a text alternative."""
