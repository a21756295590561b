// Plotly.js's Japanese locale for the dashboard's charts, written for tillage (served from this
// machine, no CDN): month and day names for date axes, and the few interface words a chart
// shows. Loaded after plotly-cartesian.min.js; static/plots.js picks it with config.locale = "ja".
Plotly.register({
  moduleType: "locale",
  name: "ja",
  dictionary: {
    "Autoscale": "自動縮尺",
    "Reset axes": "軸を元に戻す",
    "Zoom in": "拡大",
    "Zoom out": "縮小",
    "Download plot as a png": "画像として保存",
    "Double-click to zoom back out": "ダブルクリックで元に戻す",
    "Click to enter Colorscale title": "カラースケールのタイトルを入力",
    "Click to enter X axis title": "X軸のタイトルを入力",
    "Click to enter Y axis title": "Y軸のタイトルを入力",
    "Click to enter Plot title": "グラフのタイトルを入力",
    "trace": "系列"
  },
  format: {
    days: ["日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日"],
    shortDays: ["日", "月", "火", "水", "木", "金", "土"],
    months: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
    shortMonths: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
    date: "%Y/%m/%d",
    year: "%Y年",
    month: "%Y年%-m月",
    dayMonth: "%-m月%-d日",
    dayMonthYear: "%Y年%-m月%-d日"
  }
});
