/** docker-style random names ("brave_turing") for containers created without --name. */
import { randomInt } from 'node:crypto';

const LEFT = ['admiring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever',
  'cool', 'compassionate', 'confident', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elegant', 'epic', 'fervent',
  'focused', 'friendly', 'funny', 'gallant', 'gifted', 'goofy', 'gracious', 'happy', 'hopeful', 'infallible', 'inspiring',
  'jolly', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'modest', 'musing', 'nice', 'nifty', 'nostalgic', 'objective',
  'optimistic', 'peaceful', 'pensive', 'practical', 'priceless', 'quirky', 'relaxed', 'reverent', 'romantic', 'serene',
  'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant',
  'vigilant', 'wizardly', 'wonderful', 'youthful', 'zealous', 'zen'];
const RIGHT = ['albattani', 'allen', 'archimedes', 'babbage', 'bardeen', 'bell', 'bohr', 'booth', 'cannon', 'carson', 'cerf',
  'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'fermat', 'feynman', 'galileo', 'gauss', 'goldberg', 'hamilton',
  'hawking', 'heisenberg', 'hopper', 'hypatia', 'joliot', 'kepler', 'knuth', 'lamport', 'lovelace', 'mayer', 'mccarthy',
  'meitner', 'mirzakhani', 'morse', 'newton', 'nobel', 'noether', 'pascal', 'pasteur', 'perlman', 'pike', 'poincare', 'ritchie',
  'shannon', 'sinoussi', 'stallman', 'swanson', 'tesla', 'thompson', 'torvalds', 'turing', 'wilson', 'wozniak', 'wright', 'yalow'];

export function randomName(taken: (n: string) => boolean): string {
  for (let i = 0; ; i++) {
    const n = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}${i > 10 ? randomInt(10) : ''}`;
    if (!taken(n)) return n;
  }
}

/** docker's rule for --name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
