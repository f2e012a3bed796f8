import './base.css';
import './governance.css';
import './snapshot.css';
import './compare.css';
import './runs.css';
import './sparkline.css';
import './schedules.css';
import './explain.css';
