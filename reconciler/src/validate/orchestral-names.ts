// The naming convention: nodes are named after orchestral
// roles. The suggested names come first (suggested in that order); the rest are
// further orchestral words that also pass without a warning.
export const SUGGESTED_NAMES = [
  'bob', 'maestro', 'stagehand', 'virtuoso', 'soloist', 'concerto', 'overture', 'cadence', 'harmony', 'tempo', 'crescendo',
] as const;

export const ORCHESTRAL_NAMES: ReadonlySet<string> = new Set<string>([
  ...SUGGESTED_NAMES,
  'adagio', 'allegro', 'andante', 'aria', 'arpeggio', 'bassoon', 'baton', 'cello', 'chorus', 'clarinet', 'coda',
  'conductor', 'contralto', 'crotchet', 'diminuendo', 'encore', 'ensemble', 'fanfare', 'fermata', 'finale', 'forte',
  'fortissimo', 'fugue', 'glissando', 'interlude', 'intermezzo', 'largo', 'legato', 'libretto', 'lento', 'maracas',
  'march', 'melody', 'minuet', 'motif', 'nocturne', 'oboe', 'octave', 'opus', 'oratorio', 'overtone', 'piano',
  'pianissimo', 'piccolo', 'pizzicato', 'prelude', 'presto', 'quartet', 'quintet', 'requiem', 'rhapsody', 'rondo',
  'scherzo', 'serenade', 'sforzando', 'sonata', 'soprano', 'staccato', 'symphony', 'tenor', 'timpani', 'toccata',
  'tremolo', 'trio', 'trombone', 'trumpet', 'tuba', 'tutti', 'viola', 'violin', 'vivace',
]);
